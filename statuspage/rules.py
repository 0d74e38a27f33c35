"""Status rules: component and incident vocabularies, overall status, indicator, uptime bars.

Plain functions on values, no I/O; the store and the HTTP layer call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "minor", "major", "critical")
OVERALLS = ("operational", "degraded", "partial_outage", "major_outage")

# How bad a component status is; maintenance is planned, so it ranks below any outage.
_SEVERITY = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
_IMPACT_TO_COMPONENT = {
    "none": "operational",
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
    "maintenance": "under_maintenance",
}
_COMPONENT_TO_OVERALL = {
    "operational": "operational",
    "under_maintenance": "degraded",
    "degraded_performance": "degraded",
    "partial_outage": "partial_outage",
    "major_outage": "major_outage",
}
_INDICATOR = {
    "operational": "none",
    "under_maintenance": "minor",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
_DESCRIPTION = {
    "operational": "All Systems Operational",
    "under_maintenance": "Service Under Maintenance",
    "degraded_performance": "Partially Degraded Service",
    "partial_outage": "Partial System Outage",
    "major_outage": "Major System Outage",
}
_INDICATOR_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
# Atlassian's uptime weighting: a partial outage counts as 30 % down, degradation and maintenance as up.
_DOWN_WEIGHT = {"major_outage": 1.0, "partial_outage": 0.3}


def worst(statuses: list[str]) -> str:
    return max(statuses, key=_SEVERITY.__getitem__, default="operational")


def impact_status(impact: str) -> str:
    """The component status an unresolved incident of this impact implies for the components it affects."""
    return _IMPACT_TO_COMPONENT.get(impact, "operational")


@dataclass(frozen=True)
class Event:
    """Something that set a component's status over a span of time (recorded status or an incident)."""

    component: str
    status: str
    start: datetime
    end: datetime | None  # None: still going on


def effective_status(component: str, recorded: str, active: list[Event]) -> str:
    """A component shows the worst of its recorded status and what its active incidents imply."""
    return worst([recorded] + [e.status for e in active if e.component == component])


def overall(component_statuses: list[str]) -> str:
    """`/api/status` overall: operational | degraded | partial_outage | major_outage."""
    return _COMPONENT_TO_OVERALL[worst(component_statuses)]


def indicator(component_statuses: list[str], unresolved_impacts: list[str]) -> tuple[str, str]:
    """The v2 `status` object: (indicator none|minor|major|critical, description)."""
    status = worst(component_statuses)
    ind, desc = _INDICATOR[status], _DESCRIPTION[status]
    for impact in unresolved_impacts:
        if impact in _INDICATOR_RANK and _INDICATOR_RANK[impact] > _INDICATOR_RANK[ind]:
            ind, desc = (
                impact,
                {"minor": "Minor Service Outage", "major": "Partial System Outage", "critical": "Major System Outage"}[
                    impact
                ],
            )
    return ind, desc


def maintenance_status(stored: str, now: datetime, scheduled_for: datetime, scheduled_until: datetime) -> str:
    """A maintenance moves by the clock unless an admin moved it on: scheduled → in_progress → completed."""
    if stored == "completed" or now >= scheduled_until:
        return "completed"
    if stored == "scheduled" and now >= scheduled_for:
        return "in_progress"
    return stored


@dataclass(frozen=True)
class Day:
    date: date
    status: str  # the worst status seen that day; "no_data" before the component was known
    uptime: float | None  # fraction of the day up, Atlassian-weighted; None without data


def uptime_days(events: list[Event], known_since: datetime, now: datetime, days: int = 90) -> list[Day]:
    """One bar per UTC day, oldest first, ending today, from the spans that set a component's status."""
    today = now.astimezone(timezone.utc).date()
    bars: list[Day] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        end = min(start + timedelta(days=1), now)
        observed_from = max(start, known_since)
        if observed_from >= end:
            bars.append(Day(day, "no_data", None))
            continue
        spans = [(max(e.start, observed_from), min(e.end or now, end), e.status) for e in events]
        spans = [sp for sp in spans if sp[0] < sp[1]]
        bars.append(_day_bar(day, observed_from, end, spans))
    return bars


def _day_bar(day: date, start: datetime, end: datetime, spans: list[tuple[datetime, datetime, str]]) -> Day:
    # Overlapping spans count once: each slice between two edges takes the worst status covering it.
    edges = sorted({start, end, *(s for s, _, _ in spans), *(f for _, f, _ in spans)})
    down, seen = 0.0, ["operational"]
    for a, b in zip(edges, edges[1:]):
        status = worst([st for s, f, st in spans if s <= a and f >= b])
        seen.append(status)
        down += _DOWN_WEIGHT.get(status, 0.0) * (b - a).total_seconds()
    return Day(day, worst(seen), max(0.0, 1.0 - down / (end - start).total_seconds()))


def uptime_percent(bars: list[Day]) -> float | None:
    known = [b.uptime for b in bars if b.uptime is not None]
    return round(100.0 * sum(known) / len(known), 2) if known else None
