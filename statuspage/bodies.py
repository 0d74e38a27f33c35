"""What the admin API accepts: msgspec Structs with limits on every field, and the one reader of request bodies.

Any body, however hostile, becomes a value or a BodyError (400 `bad_request`, 413 `too_large`); nothing escapes as a
500. Kept free of the gateway's modules on purpose: the status page must run while the gateway is down.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request

MAX_BODY_BYTES = 64 * 1024
NO_NUL = "^[^\x00]*$"  # PostgreSQL refuses NUL in text; refusing it here keeps SQLite and PostgreSQL alike
# Text a person reads: no NUL and at least one non-blank character (blank_refused refuses "   " too; saying so in the
# pattern puts it in the OpenAPI document, so a schema-valid name is never answered 400).
TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
# Sane bounds for a maintenance window; outside them a date is a typo or an attack, and far dates overflow
# datetime when converted to UTC (0001-01-01T01:00+05:00 is before datetime.min in UTC).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
# What the decoder and utc_in_range accept, as a JSON Schema pattern: OpenAPI 3.1's `format: date-time` is only an
# annotation, so date-time fields (Moment) carry this pattern. RFC 3339 as msgspec reads it
# (`T`, `t` or a space; `Z`, `z`, +hh:mm, +hhmm or no zone, taken as UTC), years 2001..2198 (inside EARLIEST..LATEST
# whatever the offset), real month lengths, 29 February in leap years only.
YEAR = r"(?:200[1-9]|20[1-9][0-9]|21[0-8][0-9]|219[0-8])"
MONTH_DAY = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
# The leap years of 2001..2198: every fourth year from 2004, 2100 excepted (a century not divisible by 400).
LEAP_YEAR = r"(?:2[01](?:0[48]|[2468][048]|[13579][26]))"
DATE_TIME = (
    r"^(?:" + YEAR + "-" + MONTH_DAY + "|" + LEAP_YEAR + r"-02-29)"
    r"[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?$"
)
# msgspec's own schema for a datetime is a bare string; the pattern puts in the document what the decoder refuses.
Moment = Annotated[datetime, msgspec.Meta(extra_json_schema={"format": "date-time", "pattern": DATE_TIME})]
INCIDENT_ID = re.compile(r"^[a-z0-9]{1,16}$")  # store.new_id makes 12 of these; anything else names nothing

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=TEXT)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000, pattern=TEXT)]
ComponentId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
Components = Annotated[list[ComponentId], msgspec.Meta(max_length=100)]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]
Impact = Literal["none", "minor", "major", "critical"]
ComponentStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]


class NewIncident(msgspec.Struct):
    name: Name
    status: IncidentStatus
    body: Body
    impact: Impact = "minor"
    components: Components = []


class NewUpdate(msgspec.Struct):
    status: IncidentStatus | MaintenanceStatus  # which of the two applies depends on the incident's kind
    body: Body
    impact: Impact | None = None
    components: Components | None = None


class NewMaintenance(msgspec.Struct):
    name: Name
    body: Body
    scheduled_for: Moment
    scheduled_until: Moment
    components: Components = []


class ComponentChange(msgspec.Struct):
    status: ComponentStatus


Token = Annotated[str, msgspec.Meta(min_length=1, max_length=16_384, pattern=NO_NUL)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
WebhookUrl = Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^https?://[^\s\x00]+$")]


class SessionStart(msgspec.Struct):
    """The incident desk's sign-in: an admin JWT (as `helpline token --role admin` prints, or the platform's)."""

    token: Token


class NewSubscription(msgspec.Struct):
    """Exactly one of the two: where the status updates go."""

    email: Email | None = None
    webhook: WebhookUrl | None = None
    lang: str | None = None  # the e-mails' language (`en`, `vi`); else ?lang=, then Accept-Language


class BodyError(Exception):
    """A refused body: `code` is the contract's error code, `status` the HTTP status that goes with it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def too_large() -> BodyError:
    return BodyError("too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes", 413)


async def read_body(request: Request, kind: type[Any]) -> Any:
    """Read at most MAX_BODY_BYTES (declared or streamed) and decode them into `kind`, or raise BodyError."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large()
    try:
        return msgspec.json.decode(raw, type=kind)
    except RecursionError:  # msgspec recurses once per nesting level, even to skip an unknown field
        raise BodyError("bad_request", "JSON is nested too deeply") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise BodyError("bad_request", str(exc)) from None


def utc_in_range(name: str, value: datetime) -> datetime:
    """The moment in UTC (a date without a zone is taken as UTC), refused outside EARLIEST..LATEST.

    The range is checked on the wall-clock value first: converting a date near datetime.min or max overflows."""
    wall = value.replace(tzinfo=None)
    if not EARLIEST.replace(tzinfo=None) + timedelta(days=1) <= wall <= LATEST.replace(tzinfo=None) - timedelta(days=1):
        raise BodyError("bad_request", f"{name} must be between {EARLIEST.date()} and {LATEST.date()}")
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def unique_known(ids: list[str], known: set[str]) -> list[str]:
    """Component ids in the order given, each once; an id the components file does not name is refused."""
    unknown = sorted({c for c in ids if c not in known})
    if unknown:
        raise BodyError("bad_request", f"unknown components: {', '.join(unknown)[:500]}")
    return list(dict.fromkeys(ids))


def blank_refused(name: str, value: str) -> str:
    """Text without its surrounding blanks; all blank is refused like empty."""
    value = value.strip()
    if not value:
        raise BodyError("bad_request", f"{name} must not be blank")
    return value
