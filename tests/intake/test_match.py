"""Which active incident a draft is about: word overlap and the components' topics, in plain values."""

from __future__ import annotations

from support.incidents.match import ActiveIncident, match, words
from support.incidents.service import IncidentUpdate, StatusIncident, resolution_notice

CHARTS = ActiveIncident(
    "i1",
    "Charts not loading",
    "investigating",
    "major",
    ("charts",),
    "Charts not loading Some charts stay blank after a reload.",
)
QUOTES = ActiveIncident("i2", "Delayed quotes", "identified", "minor", ("data-feeds",), "Delayed quotes")
SIGN_IN = ActiveIncident("i3", "Sign-in errors", "monitoring", "minor", ("sign-in",), "Sign-in errors")


def test_plural_and_ing_forms_meet() -> None:
    assert {"chart", "load"} <= words("Charts loading")
    assert "the" not in words("the chart") and "sign" in words("sign-in")


def test_a_draft_in_the_incidents_words_matches_it_first() -> None:
    found = match([SIGN_IN, QUOTES, CHARTS], "Chart blank", "My BTCUSD chart is blank", "bug")
    assert [i.id for i, _ in found] == ["i1"]
    assert found[0][1] >= 0.5


def test_component_keywords_count_even_when_the_incident_says_little() -> None:
    found = match([QUOTES], "Prices frozen", "EURUSD price is stale since noon", "data")
    assert [i.id for i, _ in found] == ["i2"]


def test_a_category_alone_never_matches() -> None:
    assert match([CHARTS, QUOTES], "Hello", "Something is odd", "bug") == []


def test_a_generic_category_adds_nothing() -> None:
    assert match([SIGN_IN], "Login", "Help", "question") == []
    assert [i.id for i, _ in match([SIGN_IN], "Login", "Help", "account")] == ["i3"]


def test_an_unrelated_draft_matches_nothing() -> None:
    assert match([CHARTS, QUOTES, SIGN_IN], "Invoice", "Where is last month's invoice?", "billing") == []


def test_the_notice_names_the_incident_and_carries_the_resolution_note() -> None:
    incident = StatusIncident(
        "i1",
        "Charts not loading",
        "resolved",
        components=["charts"],
        updates=[IncidentUpdate("resolved", "Fixed by a rollback."), IncidentUpdate("investigating", "Looking.")],
        resolved_at="2026-01-01T00:00:00Z",
        shortlink="https://status.example/incidents/i1",
    )
    text = resolution_notice(incident)
    assert "Charts not loading" in text and "Fixed by a rollback." in text and "Looking." not in text
    assert text.endswith("https://status.example/incidents/i1")
    vietnamese = resolution_notice(incident, "vi")  # a ticket whose context says its customer reads Vietnamese
    assert vietnamese.startswith("Đã khắc phục: “Charts not loading”.") and "Resolved" not in vietnamese
    assert vietnamese.endswith("Chi tiết: https://status.example/incidents/i1")
