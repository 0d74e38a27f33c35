"""The event outbox: webhook events written in the same transaction as the change they describe.

Nothing here sends anything; persistence/webhooks.py reads the outbox and delivers. Replaying a write (the worker
after a crash) adds no event twice: ids of message and ticket-creation events are derived from what they describe.
`message.created` events are written only when an endpoint takes them (checked in the writing transaction).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Iterable, Sequence

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models_integrations import OutboxEvent, WebhookEndpoint
from support.core.clock import iso
from support.core.model import Message, TicketView
from support.integrations.events import (
    EVENT_BODIES,
    EVENT_TYPES,
    Actor,
    FieldChange,
    IncidentLinkedData,
    MessageCreatedData,
    TicketCreatedData,
    TicketUpdatedData,
    WebhookEvent,
)

TRACKED_CHANGES = ("status", "assignee", "priority")

_json = msgspec.json.Encoder()


def stable_id(*parts: str) -> str:
    return "evt_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _row(
    event_id: str, type_: str, ticket_id: str | None, internal: bool, data: msgspec.Struct, now: datetime
) -> dict[str, Any]:
    envelope = EVENT_BODIES[type_](
        id=event_id,
        type=type_,
        created_at=iso(now) or "",  # type: ignore[call-arg]
        data=data,
    )
    return {
        "event_id": event_id,
        "type": type_,
        "ticket_id": ticket_id,
        "internal": internal,
        "payload": msgspec.to_builtins(envelope),
        "created_at": now,
        "fanned_out": False,
    }


def ticket_created(view: TicketView, now: datetime) -> dict[str, Any]:
    return _row(stable_id("ticket.created", view.id), "ticket.created", view.id, False, TicketCreatedData(view), now)


def ticket_updated(
    view: TicketView, changes: dict[str, FieldChange], actor: Actor | None, now: datetime
) -> dict[str, Any]:
    return _row(
        "evt_" + uuid.uuid4().hex, "ticket.updated", view.id, False, TicketUpdatedData(view, changes, actor), now
    )


def message_created(message: Message, now: datetime) -> dict[str, Any]:
    return _row(
        stable_id("message.created", message.ticket, str(message.seq)),
        "message.created",
        message.ticket,
        message.internal,
        MessageCreatedData(message),
        now,
    )


def incident_linked(ticket_id: str, incident: dict[str, Any], now: datetime) -> dict[str, Any]:
    """For the incidents code: call add_events(session, dialect, [incident_linked(...)]) in its transaction."""
    key = str(incident.get("id", uuid.uuid4().hex))
    return _row(
        stable_id("incident.linked", ticket_id, key),
        "incident.linked",
        ticket_id,
        False,
        IncidentLinkedData(ticket_id, incident),
        now,
    )


def subscribed(events: Iterable[str], include_internal: bool, event_type: str, internal: bool) -> bool:
    """The one rule of who gets what: the event types an endpoint chose; internal notes only when it asked."""
    return event_type in events and (not internal or include_internal)


class MessageEventsWanted(msgspec.Struct, frozen=True):
    """Whether some active endpoint takes `message.created` for customer-visible messages, for internal notes."""

    visible: bool
    internal: bool

    def __call__(self, internal: bool) -> bool:
        return self.internal if internal else self.visible


def message_events_wanted(endpoints: Iterable[tuple[Iterable[str], bool]]) -> MessageEventsWanted:
    """From the (events, include_internal) of every active, non-failing endpoint: what fan-out would deliver."""
    visible = internal = False
    for events, include_internal in endpoints:
        events = list(events)
        visible = visible or subscribed(events, include_internal, "message.created", False)
        internal = internal or subscribed(events, include_internal, "message.created", True)
    return MessageEventsWanted(visible, internal)


# The endpoints fan-out delivers to (persistence/webhooks.py Dispatcher.fan_out uses the same filter).
ACTIVE_ENDPOINTS_SQL = "SELECT events, include_internal FROM webhook_endpoints WHERE active AND NOT failing"


# The endpoints a `message.created` may be for (the rows message_events_wanted takes).
WANTED_ENDPOINTS = select(WebhookEndpoint.events, WebhookEndpoint.include_internal).where(
    WebhookEndpoint.active.is_(True), WebhookEndpoint.failing.is_(False)
)


async def wanted_message_events(session: AsyncSession) -> MessageEventsWanted:
    """Read in the caller's transaction, so an endpoint that exists when the messages are written gets them."""
    rows = (await session.execute(WANTED_ENDPOINTS)).all()
    return message_events_wanted(rows)


def changes_between(before: TicketView, after: TicketView) -> dict[str, FieldChange]:
    return {
        name: FieldChange(getattr(before, name), getattr(after, name))
        for name in TRACKED_CHANGES
        if getattr(before, name) != getattr(after, name)
    }


# The same on the driver connection (asyncpg), for the worker's batch write.
INSERT_MESSAGE_EVENTS_SQL = """
    INSERT INTO outbox_events (event_id, type, ticket_id, internal, payload, created_at, fanned_out)
    SELECT v.event_id, 'message.created', v.ticket_id, v.internal, CAST(v.payload AS json), v.created_at, false
    FROM unnest($1::varchar[], $2::varchar[], $3::boolean[], $4::text[], $5::timestamptz[])
         AS v(event_id, ticket_id, internal, payload, created_at)
    ON CONFLICT (event_id) DO NOTHING
"""


def message_event_columns(messages: Sequence[tuple[Message, datetime]]) -> tuple[list[Any], ...]:
    """`message.created` events of (message, its time) as the columns of INSERT_MESSAGE_EVENTS_SQL."""
    rows = [message_created(message, at) for message, at in messages]
    return (
        [r["event_id"] for r in rows],
        [r["ticket_id"] for r in rows],
        [r["internal"] for r in rows],
        [_json.encode(r["payload"]).decode() for r in rows],
        [r["created_at"] for r in rows],
    )


def insert_events(dialect: str) -> Any:
    """The insert of outbox rows; an event id already there is skipped (replays)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(OutboxEvent).on_conflict_do_nothing(index_elements=["event_id"])


async def add_events(session: AsyncSession, dialect: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert events in the caller's transaction; an event id already there is skipped (replays)."""
    rows = list(rows)
    if not rows:
        return
    await session.execute(insert_events(dialect), rows)


__all__ = [
    "EVENT_TYPES",
    "Actor",
    "WebhookEvent",
    "add_events",
    "insert_events",
    "WANTED_ENDPOINTS",
    "ticket_created",
    "ticket_updated",
    "message_created",
    "incident_linked",
    "changes_between",
    "subscribed",
    "message_events_wanted",
    "wanted_message_events",
    "MessageEventsWanted",
]
