"""The audit log: who among agents and admins did what, written in the transaction of the act itself.

Entries hold ids and field values, never message bodies, so an erasure has nothing to scrub here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence import outbox
from persistence.models_integrations import AuditEntry
from persistence.outbox import Actor
from support.core.clock import iso
from support.core.model import TicketView
from support.integrations.events import actor_of
from support.integrations.ports import AuditRecord

# Ticket fields whose change by hand is an audited act, and the action each is recorded as.
AUDITED_CHANGES = {"status": "ticket.status", "assignee": "ticket.assign", "priority": "ticket.priority"}


def entry(
    actor: Actor, action: str, target_type: str, target_id: str, details: dict[str, Any], now: datetime
) -> AuditEntry:
    return AuditEntry(
        at=now,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    """Add an entry to the caller's transaction (it is written when that commits)."""
    session.add(entry(actor, action, target_type, target_id, details, now))


async def record_ticket_change(
    session: AsyncSession, dialect: str, before: TicketView, after: TicketView, who: Any, now: datetime
) -> None:
    """In the change's own transaction: the `ticket.updated` event, and an audit entry per field changed by hand."""
    changes = outbox.changes_between(before, after)
    if not changes:
        return
    actor = actor_of(who) if who is not None else None
    await outbox.add_events(session, dialect, [outbox.ticket_updated(after, changes, actor, now)])
    if actor is None:
        return
    for name, change in changes.items():
        record(session, actor, AUDITED_CHANGES[name], "ticket", after.id, {"old": change.old, "new": change.new}, now)


def _view(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        str(row.pk),
        iso(row.at) or "",
        Actor(row.actor_id, row.actor_name, row.actor_role),
        row.action,
        row.target_type,
        row.target_id,
        row.details,
    )


async def list_entries(
    sessions: async_sessionmaker[AsyncSession],
    before: int | None,
    limit: int,
    action: str | None = None,
    actor_id: str | None = None,
    target_id: str | None = None,
) -> list[AuditRecord]:
    """Newest first; `before` is the id of the last entry of the previous page."""
    a = AuditEntry
    query = select(a)
    if before is not None:
        query = query.where(a.pk < before)
    if action:
        query = query.where(a.action == action)
    if actor_id:
        query = query.where(a.actor_id == actor_id)
    if target_id:
        query = query.where(a.target_id == target_id)
    async with sessions() as session:
        return [_view(r) for r in await session.scalars(query.order_by(a.pk.desc()).limit(limit))]


class AuditRepository:
    """support/integrations/ports.py `AuditEntries` over the ticket store's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def entries(
        self, before: int | None, limit: int, action: str | None, actor_id: str | None, target_id: str | None
    ) -> list[AuditRecord]:
        return await list_entries(self.sessions, before, limit, action, actor_id, target_id)

    async def add(
        self, actor: Actor, action: str, target_type: str, target_id: str, details: dict[str, Any], now: datetime
    ) -> None:
        async with self.sessions.begin() as session:
            record(session, actor, action, target_type, target_id, details, now)


__all__ = ["AuditRepository", "AuditRecord", "record", "entry", "list_entries", "record_ticket_change", "actor_of"]
