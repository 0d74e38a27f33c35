"""Overall status, v2 indicator, maintenance clock and uptime bars: the pure rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from statuspage import rules
from statuspage.rules import Event

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["operational", "operational"], "operational"),
        ([], "operational"),
        (["operational", "degraded_performance"], "degraded"),
        (["under_maintenance", "operational"], "degraded"),
        (["degraded_performance", "partial_outage", "operational"], "partial_outage"),
        (["partial_outage", "major_outage", "under_maintenance"], "major_outage"),
    ],
)
def test_overall_is_the_worst_component(statuses: list[str], expected: str) -> None:
    assert rules.overall(statuses) == expected


@pytest.mark.parametrize(
    ("statuses", "impacts", "expected"),
    [
        (["operational"], [], ("none", "All Systems Operational")),
        (["degraded_performance"], [], ("minor", "Partially Degraded Service")),
        (["partial_outage"], [], ("major", "Partial System Outage")),
        (["major_outage", "operational"], [], ("critical", "Major System Outage")),
        (["under_maintenance"], [], ("minor", "Service Under Maintenance")),
        (["operational"], ["minor"], ("minor", "Minor Service Outage")),
        (["operational"], ["none"], ("none", "All Systems Operational")),
        (["degraded_performance"], ["critical", "minor"], ("critical", "Major System Outage")),
        (["major_outage"], ["minor"], ("critical", "Major System Outage")),
    ],
)
def test_indicator_from_components_and_unresolved_impacts(
    statuses: list[str], impacts: list[str], expected: tuple[str, str]
) -> None:
    assert rules.indicator(statuses, impacts) == expected


def test_an_active_incident_makes_its_components_look_worse_never_better() -> None:
    active = [Event("chat", rules.impact_status("major"), NOW, None)]
    assert rules.effective_status("chat", "operational", active) == "partial_outage"
    assert rules.effective_status("chat", "major_outage", active) == "major_outage"
    assert rules.effective_status("charts", "operational", active) == "operational"
    assert (
        rules.effective_status("chat", "operational", [Event("chat", rules.impact_status("none"), NOW, None)])
        == "operational"
    )


def test_maintenance_follows_the_clock_unless_moved_on() -> None:
    start, end = NOW, NOW + timedelta(hours=2)
    assert rules.maintenance_status("scheduled", NOW - timedelta(minutes=1), start, end) == "scheduled"
    assert rules.maintenance_status("scheduled", NOW + timedelta(minutes=1), start, end) == "in_progress"
    assert rules.maintenance_status("verifying", NOW + timedelta(minutes=1), start, end) == "verifying"
    assert rules.maintenance_status("in_progress", end, start, end) == "completed"
    assert rules.maintenance_status("completed", NOW, start, end) == "completed"


def test_uptime_bars_weight_outages_and_show_no_data_before_the_component_existed() -> None:
    known = datetime(2025, 3, 6, tzinfo=timezone.utc)
    day = datetime(2025, 3, 8, tzinfo=timezone.utc)
    events = [
        Event("c", "operational", known, day + timedelta(hours=6)),
        Event("c", "major_outage", day + timedelta(hours=6), day + timedelta(hours=12)),
        Event("c", "operational", day + timedelta(hours=12), None),
        # an incident overlapping the outage: the overlap counts once
        Event("c", "partial_outage", day + timedelta(hours=10), day + timedelta(hours=20)),
    ]
    bars = rules.uptime_days(events, known, NOW, days=6)
    assert [b.date.isoformat() for b in bars] == [
        "2025-03-05",
        "2025-03-06",
        "2025-03-07",
        "2025-03-08",
        "2025-03-09",
        "2025-03-10",
    ]
    assert bars[0].status == "no_data" and bars[0].uptime is None
    assert bars[1].status == "operational" and bars[1].uptime == 1.0
    outage = bars[3]
    assert outage.status == "major_outage"
    assert outage.uptime == pytest.approx(1 - (6 + 0.3 * 8) / 24)
    assert bars[5].uptime == 1.0  # today counts only up to now
    assert rules.uptime_percent(bars) == pytest.approx(100 * (4 + outage.uptime) / 5, abs=0.01)


def test_uptime_counts_an_open_outage_up_to_now() -> None:
    start = NOW - timedelta(hours=2)
    bars = rules.uptime_days([Event("c", "major_outage", start, None)], NOW - timedelta(hours=4), NOW, days=1)
    assert bars[0].uptime == pytest.approx(0.5)
    assert rules.uptime_percent([]) is None
