"""Reports per plan over a period: volume, first-response and resolution times (median, p90), breaches, CSAT.

Pure: computed from ticket facts and ratings handed in; persistence/workflow_store.py reads them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Sequence

import msgspec

from support.core import policy

PLANS = ("premium", "pro_plus", "pro", "free")


class TicketFacts(msgspec.Struct, frozen=True):
    plan: str
    created_at: datetime
    first_response_due: datetime | None
    first_response_at: datetime | None
    solved_at: datetime | None


class Rating(msgspec.Struct, frozen=True):
    plan: str
    score: int


class Times(msgspec.Struct):
    count: int
    median_s: int | None
    p90_s: int | None


class Csat(msgspec.Struct):
    count: int
    average: float | None
    distribution: dict[str, int]  # "1".."5" → ratings


class PlanReport(msgspec.Struct):
    plan: str
    volume: int
    first_response: Times
    resolution: Times
    breaches: int
    met: int
    csat: Csat


class Report(msgspec.Struct):
    days: int
    since: str
    until: str
    plans: list[PlanReport]
    total: PlanReport


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: always one of the values, so a report never shows a time nobody waited."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def times(values: Sequence[float]) -> Times:
    median, p90 = percentile(values, 50), percentile(values, 90)
    return Times(len(values), None if median is None else round(median), None if p90 is None else round(p90))


def csat(scores: Sequence[int]) -> Csat:
    distribution = {str(s): 0 for s in range(1, 6)}
    for s in scores:
        distribution[str(s)] += 1
    average = round(sum(scores) / len(scores), 2) if scores else None
    return Csat(len(scores), average, distribution)


def plan_report(plan: str, tickets: Sequence[TicketFacts], ratings: Sequence[Rating], now: datetime) -> PlanReport:
    first = [(t.first_response_at - t.created_at).total_seconds() for t in tickets if t.first_response_at]
    resolved = [(t.solved_at - t.created_at).total_seconds() for t in tickets if t.solved_at]
    outcomes = [policy.first_response_breached(t.first_response_due, t.first_response_at, now) for t in tickets]
    return PlanReport(
        plan=plan,
        volume=len(tickets),
        first_response=times(first),
        resolution=times(resolved),
        breaches=sum(1 for o in outcomes if o is True),
        met=sum(1 for o in outcomes if o is False),
        csat=csat([r.score for r in ratings]),
    )


def build_report(
    tickets: Sequence[TicketFacts], ratings: Sequence[Rating], days: int, since: datetime, now: datetime
) -> Report:
    """Tickets opened in the period, ratings given in it; one row per plan (every plan, even when empty)."""
    plans = [
        plan_report(p, [t for t in tickets if t.plan == p], [r for r in ratings if r.plan == p], now) for p in PLANS
    ]
    return Report(
        days=days, since=_iso(since), until=_iso(now), plans=plans, total=plan_report("all", tickets, ratings, now)
    )


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
