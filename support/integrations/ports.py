"""The integrations' ports: webhook endpoints and their delivery logs, the audit log, a user's data (export,
erasure), as the admin API asks for them (persistence/webhook_endpoints.py, audit.py and erasure.py implement
them), and the values they hand back. No SQL here.

Guarantees: every change to a webhook endpoint and every export or erasure is audited in its own transaction;
an erasure keeps each ticket's seq sequence gapless (bodies become tombstones in place).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Protocol

import msgspec

from support.core.model import Message as MessageView
from support.core.model import TicketView
from support.integrations.events import Actor


class EndpointView(msgspec.Struct):
    id: str
    url: str
    events: list[str]
    include_internal: bool
    description: str
    active: bool
    failing: bool
    failing_since: str | None
    created_by: str
    created_at: str
    updated_at: str
    secret: str | None = None  # shown once: when created, and when rotated


class DeliveryView(msgspec.Struct):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class AuditRecord(msgspec.Struct):
    id: str
    at: str
    actor: Actor
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


class TicketExport(msgspec.Struct):
    ticket: TicketView
    messages: list[MessageView]


class UserExport(msgspec.Struct):
    user: str
    exported_at: str
    tickets: list[TicketExport]


class ErasureReport(msgspec.Struct):
    user: str
    erased_at: str
    tickets: int
    messages: int
    attachments: int
    ticket_ids: list[str]


class AttachmentFiles(Protocol):
    async def delete(self, key: str) -> None: ...


class WebhookEndpoints(Protocol):
    async def create(
        self, actor: Actor, url: str, events: list[str], include_internal: bool, description: str, secret: str | None
    ) -> EndpointView: ...

    async def list(self) -> builtins.list[EndpointView]: ...

    async def get(self, endpoint_id: str) -> EndpointView | None: ...

    async def update(
        self, actor: Actor, endpoint_id: str, changes: dict[str, Any], rotate_secret: bool
    ) -> EndpointView | None:
        """Apply the given fields; `active: true` also clears `failing` and gives held deliveries a new window."""

    async def delete(self, actor: Actor, endpoint_id: str) -> bool: ...

    async def deliveries(
        self, endpoint_id: str, before: int | None, limit: int, status: str | None = None
    ) -> builtins.list[DeliveryView]: ...


class AuditEntries(Protocol):
    async def entries(
        self, before: int | None, limit: int, action: str | None, actor_id: str | None, target_id: str | None
    ) -> list[AuditRecord]:
        """Newest first; `before` is the id of the last entry of the previous page."""

    async def add(
        self, actor: Actor, action: str, target_type: str, target_id: str, details: dict[str, Any], now: datetime
    ) -> None: ...


class PersonalData(Protocol):
    async def export_user(self, user_id: str, now: datetime) -> UserExport:
        """Every ticket the user opened, oldest first, with every message a customer may see."""

    async def erase_user(
        self, user_id: str, actor: Actor, now: datetime, attachments: AttachmentFiles | None
    ) -> ErasureReport:
        """Tombstone everything the user wrote or was named in, in one audited transaction."""
