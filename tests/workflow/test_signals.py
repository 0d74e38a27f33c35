"""Similar free reports become one signal with its count and trend; different ones stay apart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.workflow.signals import Report, group, signals, trend

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

CORPUS = [
    ("chart-1", "Chart not loading", "The BTCUSD chart does not load, the spinner keeps going forever", 2),
    ("chart-2", "chart won't load", "My chart is stuck loading forever on EURUSD since this morning", 5),
    ("chart-3", "Charts not loading today", "chart loading spinner never ends, tried two browsers", 30),
    ("chart-4", "Chart stuck on loading", "the chart never finishes loading", 40),
    ("alert-1", "Alert fired twice", "My RSI alert fired twice at the same bar", 3),
    ("alert-2", "Duplicate alert notifications", "The price alert fired two times for one cross", 8),
    ("dark-1", "Dark mode request", "Please add a darker theme for the order panel", 10),
    ("login-1", "Cannot log in", "Login fails with a password error even after a reset", 12),
]


def corpus() -> list[Report]:
    return [Report(i, s, b, NOW - timedelta(hours=h)) for i, s, b, h in CORPUS]


def test_similar_reports_form_one_signal_and_different_ones_stay_apart() -> None:
    reports = corpus()
    found = signals(reports, NOW)
    by_members = {frozenset(s.ticket_ids): s for s in found}
    assert frozenset({"chart-1", "chart-2", "chart-3", "chart-4"}) in by_members
    assert frozenset({"alert-1", "alert-2"}) in by_members
    # The one-off reports are not signals, and no report is in two signals.
    assert len(found) == 2
    assert sorted(i for s in found for i in s.ticket_ids) == sorted(
        ["chart-1", "chart-2", "chart-3", "chart-4", "alert-1", "alert-2"]
    )


def test_a_signal_shows_count_trend_title_and_a_sample() -> None:
    chart = signals(corpus(), NOW)[0]  # the biggest first
    assert chart.count == 4 and chart.ticket_ids == ["chart-4", "chart-3", "chart-2", "chart-1"]
    assert chart.id == "sig-chart-4" and chart.title == "Chart stuck on loading"  # the oldest report names it
    assert (chart.trend.last_24h, chart.trend.previous_24h, chart.trend.direction) == (2, 2, "steady")
    assert chart.sample.startswith("The BTCUSD chart")  # the newest report's words


def test_min_count_one_lists_every_report_in_some_group() -> None:
    reports = corpus()
    assert sum(s.count for s in signals(reports, NOW, min_count=1)) == len(reports)
    assert len(group(reports)) == 4


def test_trend_compares_the_last_day_with_the_one_before() -> None:
    times = [NOW - timedelta(hours=h) for h in (1, 2, 3, 30)]
    assert (trend(times, NOW).direction, trend(times, NOW).last_24h) == ("rising", 3)
    assert trend([NOW - timedelta(hours=30)], NOW).direction == "falling"


def test_empty_and_stopword_only_reports_do_not_crash_or_merge() -> None:
    reports = [Report("a", "help", "please help", NOW), Report("b", "hi", "thanks", NOW)]
    assert signals(reports, NOW) == []
