"""The report charts, pure: first response and resolution time per plan over time, targets met, CSAT, volume by tag,
and the same numbers as CSV rows. persistence/desk_store.py reads the facts; widget/desk/charts.js draws them.

Buckets are UTC days for periods up to 31 days, else weeks (7 days from the first bucket's midnight). Times are
wall-clock seconds from opening, medians nearest-rank (support/workflow/reports.py `percentile`).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta
from typing import Iterable, Sequence

import msgspec

from support.core import policy
from support.workflow.desk_ports import ChartRating, ChartTicket
from support.workflow.reports import PLANS, percentile

DAILY_UP_TO_DAYS = 31
CSV_COLUMNS = (
    "bucket_start",
    "plan",
    "volume",
    "first_response_median_s",
    "resolution_median_s",
    "met",
    "breaches",
    "csat_count",
    "csat_average",
)


class Point(msgspec.Struct):
    start: str  # the bucket's first instant (ISO, UTC)
    volume: int
    first_response_median_s: int | None
    resolution_median_s: int | None
    met: int
    breaches: int
    csat_count: int
    csat_average: float | None


class PlanSeries(msgspec.Struct):
    plan: str
    points: list[Point]


class TagVolume(msgspec.Struct):
    tag: str
    volume: int


class Charts(msgspec.Struct):
    days: int
    bucket: str  # "day" or "week"
    since: str
    until: str
    series: list[PlanSeries]  # every plan in priority order, then "all"; one point per bucket, oldest first
    tags: list[TagVolume]  # tickets opened in the period per tag, the most first


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _median(values: Sequence[float]) -> int | None:
    found = percentile(values, 50)
    return None if found is None else round(found)


def _point(start: datetime, tickets: Sequence[ChartTicket], ratings: Sequence[ChartRating], now: datetime) -> Point:
    first = [(t.first_response_at - t.created_at).total_seconds() for t in tickets if t.first_response_at]
    resolved = [(t.solved_at - t.created_at).total_seconds() for t in tickets if t.solved_at]
    outcomes = [policy.first_response_breached(t.first_response_due, t.first_response_at, now) for t in tickets]
    scores = [r.score for r in ratings]
    return Point(
        start=_iso(start),
        volume=len(tickets),
        first_response_median_s=_median(first),
        resolution_median_s=_median(resolved),
        met=sum(1 for o in outcomes if o is False),
        breaches=sum(1 for o in outcomes if o is True),
        csat_count=len(scores),
        csat_average=round(sum(scores) / len(scores), 2) if scores else None,
    )


def build_charts(tickets: Sequence[ChartTicket], ratings: Sequence[ChartRating], days: int, now: datetime) -> Charts:
    """Tickets opened in the last `days`, ratings given in them, bucketed by day or week."""
    width = timedelta(days=1 if days <= DAILY_UP_TO_DAYS else 7)
    first = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    count = int((now - first) / width) + 1
    starts = [first + width * i for i in range(count)]

    def index(at: datetime) -> int | None:
        i = int((at - first) / width)
        return i if 0 <= i < count else None

    series = []
    for plan in (*PLANS, "all"):
        by_ticket: list[list[ChartTicket]] = [[] for _ in starts]
        by_rating: list[list[ChartRating]] = [[] for _ in starts]
        for t in tickets:
            i = index(t.created_at)
            if i is not None and plan in ("all", t.plan):
                by_ticket[i].append(t)
        for r in ratings:
            i = index(r.created_at)
            if i is not None and plan in ("all", r.plan):
                by_rating[i].append(r)
        points = [_point(s, by_ticket[i], by_rating[i], now) for i, s in enumerate(starts)]
        series.append(PlanSeries(plan, points))
    volume = Counter(tag for t in tickets if index(t.created_at) is not None for tag in t.tags)
    tags = [TagVolume(tag, n) for tag, n in sorted(volume.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Charts(days, "day" if width.days == 1 else "week", _iso(first), _iso(now), series, tags)


def csv_rows(charts: Charts) -> Iterable[list[str]]:
    yield list(CSV_COLUMNS)
    for plan in charts.series:
        for p in plan.points:
            values = (p.first_response_median_s, p.resolution_median_s, p.met, p.breaches, p.csat_count)
            yield [p.start, plan.plan, str(p.volume), *("" if v is None else str(v) for v in values)] + [
                "" if p.csat_average is None else f"{p.csat_average:.2f}"
            ]


def tag_csv_rows(charts: Charts) -> Iterable[list[str]]:
    yield ["tag", "volume"]
    for t in charts.tags:
        yield [t.tag, str(t.volume)]


def to_csv(rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet: tags are the only free text here.
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") and not _number(c) else c for c in row])
    return out.getvalue()


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False
