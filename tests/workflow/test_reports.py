"""Report numbers per plan on a small fixture: medians, p90, breaches, volume and CSAT."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.workflow.reports import Rating, TicketFacts, build_report, percentile

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=timezone.utc)
T0 = NOW - timedelta(days=2)


def ticket(plan: str, first_min: int | None, solved_min: int | None, target_min: int | None) -> TicketFacts:
    return TicketFacts(
        plan,
        T0,
        None if target_min is None else T0 + timedelta(minutes=target_min),
        None if first_min is None else T0 + timedelta(minutes=first_min),
        None if solved_min is None else T0 + timedelta(minutes=solved_min),
    )


FIXTURE = [
    ticket("premium", 10, 60, 60),
    ticket("premium", 30, 120, 60),
    ticket("premium", 90, None, 60),  # answered late: a breach
    ticket("premium", None, None, 60),  # never answered, long overdue: a breach
    ticket("pro", 100, 600, 720),
    ticket("free", None, None, None),
    ticket("free", 2000, 2100, None),
]
RATINGS = [Rating("premium", 5), Rating("premium", 4), Rating("pro", 2)]


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([5], 90) == 5


def test_report_per_plan() -> None:
    report = build_report(FIXTURE, RATINGS, 7, NOW - timedelta(days=7), NOW)
    plans = {p.plan: p for p in report.plans}
    assert list(plans) == ["premium", "pro_plus", "pro", "free"]
    premium = plans["premium"]
    assert premium.volume == 4
    assert (premium.first_response.count, premium.first_response.median_s, premium.first_response.p90_s) == (
        3,
        30 * 60,
        90 * 60,
    )
    assert (premium.resolution.count, premium.resolution.median_s, premium.resolution.p90_s) == (2, 3600, 7200)
    assert (premium.breaches, premium.met) == (2, 2)
    assert (premium.csat.count, premium.csat.average, premium.csat.distribution["5"]) == (2, 4.5, 1)
    assert plans["pro_plus"].volume == 0 and plans["pro_plus"].first_response.median_s is None
    assert (plans["pro"].breaches, plans["pro"].met, plans["pro"].csat.average) == (0, 1, 2.0)
    free = plans["free"]
    assert (free.volume, free.breaches, free.met, free.first_response.median_s) == (2, 0, 0, 2000 * 60)
    assert (report.total.volume, report.total.breaches, report.total.csat.count) == (7, 2, 3)
    assert report.days == 7
