"""The team's weekly business hours in a time zone, and time counted only inside them.

Pure functions over values (no clock, no I/O): rules and targets use them for due times and estimates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_SPELLINGS = ("", "24/7", "always", "24x7")
MAX_DAYS_SEARCHED = 3 * 366  # a schedule with any open minute finds it within a week; this only stops bad input
_PART = re.compile(
    r"^(?P<days>[a-z]{3}(?:\s*[-,]\s*[a-z]{3})*)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True)
class BusinessHours:
    """Open minutes per weekday (0 = Monday) as sorted, non-overlapping (start, end) minute pairs; `always`
    means 24/7, where business time is plain elapsed time."""

    zone: str = "UTC"
    week: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    always: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


ALWAYS = BusinessHours()


def parse_business_hours(spec: str, zone: str = "UTC") -> BusinessHours:
    """Parse e.g. "Mon-Fri 09:00-18:00; Sat 10:00-14:00" (parts split by ';'), "22:00-06:00" runs past midnight.
    An empty spec or "24/7" is always open. Raises ValueError on anything else it does not understand."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    text = spec.strip().lower()
    if text in ALWAYS_SPELLINGS:
        return BusinessHours(zone=zone)
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _PART.match(part)
        if not match:
            raise ValueError(f"cannot read business hours {part!r}; write e.g. 'Mon-Fri 09:00-18:00'")
        start, end = _minute(match["start"]), _minute(match["end"])
        if start == end:
            raise ValueError(f"empty business hours in {part!r}")
        for day in _days(match["days"]):
            if start < end:
                week[day].append((start, end))
            else:  # past midnight: the rest of this day and the start of the next
                week[day].append((start, 24 * 60))
                if end:
                    week[(day + 1) % 7].append((0, end))
    return BusinessHours(zone=zone, week=tuple(_merge(day) for day in week), always=False)


def _minute(text: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"bad time {text!r}")
    return hours * 60 + minutes


def _days(text: str) -> list[int]:
    days: list[int] = []
    for item in (x.strip() for x in text.split(",")):
        first, _, last = (x.strip() for x in item.partition("-"))
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"unknown day in {text!r}; use Mon Tue Wed Thu Fri Sat Sun")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
    return days


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _open_spans(hours: BusinessHours, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open spans as UTC instants; wall times go through the zone, so DST days are right."""
    tz = hours.tz
    spans = []
    for start, end in hours.week[day.weekday()]:
        begin = datetime.combine(day, time(start // 60, start % 60), tz)
        finish = (
            datetime.combine(day + timedelta(days=1), time(0), tz)
            if end == 24 * 60
            else datetime.combine(day, time(end // 60, end % 60), tz)
        )
        spans.append((begin.astimezone(timezone.utc), finish.astimezone(timezone.utc)))
    return spans


def add_business_seconds(start: datetime, seconds: float, hours: BusinessHours) -> datetime:
    """The instant when `seconds` of business time have passed since `start` (an aware datetime)."""
    start = start.astimezone(timezone.utc)
    if hours.always:
        return start + timedelta(seconds=seconds)
    if not any(hours.week):
        raise ValueError("the business hours have no open time")
    left = timedelta(seconds=max(0.0, seconds))
    day = start.astimezone(hours.tz).date() - timedelta(days=1)  # yesterday's span may run past midnight
    for _ in range(MAX_DAYS_SEARCHED):
        for begin, finish in _open_spans(hours, day):
            begin = max(begin, start)
            if finish <= begin:
                continue
            if finish - begin >= left:
                return begin + left
            left -= finish - begin
        day += timedelta(days=1)
    raise ValueError("business hours too sparse to reach the target")


def business_seconds_between(start: datetime, end: datetime, hours: BusinessHours) -> float:
    """Business time elapsed from `start` to `end` (0 when end is not after start)."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if end <= start:
        return 0.0
    if hours.always:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(hours.tz).date() - timedelta(days=1)
    last = end.astimezone(hours.tz).date()
    while day <= last:
        for begin, finish in _open_spans(hours, day):
            lo, hi = max(begin, start), min(finish, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total
