"""The webhook events: the body of each event type, as the receivers see it (and the OpenAPI `webhooks` list it).

Plain msgspec Structs, no I/O: persistence/outbox.py writes them to the outbox, the routes and the OpenAPI document
read the names from here, so neither of those has to import persistence.
"""

from __future__ import annotations

from typing import Any

import msgspec

from support.core.model import Message, TicketView


class Actor(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str


def actor_of(who: Any) -> Actor:
    """An Actor from anything with id, name and role (an Identity, a User)."""
    return Actor(str(who.id), str(who.name), str(who.role))


class FieldChange(msgspec.Struct, frozen=True):
    old: Any
    new: Any


class TicketCreatedData(msgspec.Struct):
    ticket: TicketView


class TicketUpdatedData(msgspec.Struct):
    ticket: TicketView
    changes: dict[str, FieldChange]
    actor: Actor | None


class MessageCreatedData(msgspec.Struct):
    message: Message


class IncidentLinkedData(msgspec.Struct):
    ticket: str
    incident: dict[str, Any]


class WebhookEvent(msgspec.Struct, kw_only=True):
    """The body of every webhook request; `id` is stable across retries, for de-duplication."""

    id: str
    type: str
    created_at: str


class TicketCreatedEvent(WebhookEvent, kw_only=True):
    data: TicketCreatedData


class TicketUpdatedEvent(WebhookEvent, kw_only=True):
    data: TicketUpdatedData


class MessageCreatedEvent(WebhookEvent, kw_only=True):
    data: MessageCreatedData


class IncidentLinkedEvent(WebhookEvent, kw_only=True):
    data: IncidentLinkedData


# What the OpenAPI document lists under `webhooks`.
EVENT_BODIES: dict[str, type[WebhookEvent]] = {
    "ticket.created": TicketCreatedEvent,
    "ticket.updated": TicketUpdatedEvent,
    "message.created": MessageCreatedEvent,
    "incident.linked": IncidentLinkedEvent,
}
EVENT_TYPES = tuple(EVENT_BODIES)
