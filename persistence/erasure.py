"""A user's data: export it (every ticket and visible message) and erase it (tombstones, seqs kept intact).

Erasure replaces bodies and names in place, so a ticket's seq sequence stays gapless and recovery with `since`
still works; the webhook outbox copies of the same text are scrubbed, and the erasure is audited.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, delete, or_, select, text, update

from persistence import audit
from persistence.models import Base, Message, ReadCursor, Ticket
from persistence.models_mail import Contact
from persistence.models_integrations import OutboxEvent, WebhookDelivery
from persistence.outbox import Actor, stable_id
from persistence.store import TicketStore, message_view, ticket_view
from support.core.clock import iso
from support.core.model import Message as MessageView
from support.integrations.ports import ErasureReport, TicketExport, UserExport

log = logging.getLogger("helpline.erasure")
TOMBSTONE = "[erased]"
SQLITE_SEARCH_INDEXES = ("messages_fts", "tickets_fts")  # migration 0011, the desk's search
ERASED_PAYLOAD = {"erased": True}
# Other areas' tables holding what a customer wrote: (module, table, customer column, what to write instead).
# A table whose module is not installed is skipped.
PERSONAL_COLUMNS = (
    (
        "persistence.models_help",
        "callbacks",
        "customer_id",
        {"customer_name": TOMBSTONE, "phone": TOMBSTONE, "preferred_time": None, "note": None},
    ),
    ("persistence.models_workflow", "csat_ratings", "customer_id", {"comment": None}),
)


class AttachmentStorage(Protocol):
    async def delete(self, key: str) -> None: ...


async def export_user(store: TicketStore, user_id: str, now: datetime) -> UserExport:
    """Every ticket the user opened, oldest first, with every message a customer may see (no internal notes)."""
    async with store.sessions() as session:
        tickets = list(
            await session.scalars(
                select(Ticket).where(Ticket.customer_id == user_id).order_by(Ticket.created_at, Ticket.id)
            )
        )
        rows = (
            list(
                await session.scalars(
                    select(Message)
                    .where(Message.ticket_id.in_([t.id for t in tickets]), Message.internal.is_(False))
                    .order_by(Message.ticket_id, Message.seq)
                )
            )
            if tickets
            else []
        )
    by_ticket: dict[str, list[MessageView]] = {}
    for row in rows:
        by_ticket.setdefault(row.ticket_id, []).append(message_view(row))
    return UserExport(user_id, iso(now) or "", [TicketExport(ticket_view(t), by_ticket.get(t.id, [])) for t in tickets])


async def erase_user(
    store: TicketStore, user_id: str, actor: Actor, now: datetime, attachments: AttachmentStorage | None = None
) -> ErasureReport:
    """Tombstone the user's tickets (subject, name, page, context), every body in them, and everything the user
    wrote or was named in elsewhere; delete their attachments; all in one transaction with its audit entry."""
    m, t = Message, Ticket
    async with store.sessions.begin() as session:
        ticket_ids = list(await session.scalars(select(t.id).where(t.customer_id == user_id)))
        authored = (await session.execute(select(m.ticket_id, m.seq).where(m.author_id == user_id))).all()
        if ticket_ids:
            await session.execute(
                update(t)
                .where(t.customer_id == user_id)
                .values(subject=TOMBSTONE, customer_name=TOMBSTONE, page_url=None, context=None)
            )
        touched = or_(m.ticket_id.in_(ticket_ids), m.author_id == user_id) if ticket_ids else m.author_id == user_id
        messages = (
            cast("CursorResult[Any]", await session.execute(update(m).where(touched).values(body=TOMBSTONE))).rowcount
            or 0
        )
        await session.execute(update(m).where(m.author_id == user_id).values(author_name=TOMBSTONE))
        await _scrub_outbox(session, ticket_ids, [stable_id("message.created", tid, str(seq)) for tid, seq in authored])
        await session.execute(delete(ReadCursor).where(ReadCursor.user_id == user_id))
        await session.execute(delete(Contact).where(Contact.user_id == user_id))  # the reply e-mails' address
        await _erase_elsewhere(session, user_id)
        files = await _drop_attachment_rows(session, user_id, ticket_ids)
        audit.record(
            session,
            actor,
            "user.erase",
            "user",
            user_id,
            {"tickets": len(ticket_ids), "messages": messages, "attachments": len(files)},
            now,
        )
        if store.dialect == "sqlite":
            # The FTS5 search indexes (migration 0011) keep an erased word in their segments until they are merged:
            # merge them now, in the erasure's transaction. It rewrites the whole index: erasures are rare.
            for index in SQLITE_SEARCH_INDEXES:
                await session.execute(text(f"INSERT INTO {index}({index}) VALUES ('optimize')"))
    # The bytes go once the rows are gone for good; a file left by a failure here is unreachable, never served.
    for key in files:
        try:
            if attachments is not None:
                await attachments.delete(key)
        except Exception:
            log.exception("deleting erased attachment %s failed", key)
    return ErasureReport(user_id, iso(now) or "", len(ticket_ids), messages, len(files), ticket_ids)


def _table(module: str, name: str) -> Any:
    try:
        importlib.import_module(module)
    except ImportError:
        return None
    return Base.metadata.tables.get(name)


async def _erase_elsewhere(session: Any, user_id: str) -> None:
    for module, name, column, values in PERSONAL_COLUMNS:
        table = _table(module, name)
        if table is not None:
            await session.execute(update(table).where(table.c[column] == user_id).values(**values))


async def _drop_attachment_rows(session: Any, user_id: str, ticket_ids: list[str]) -> list[str]:
    """Delete the rows of every attachment on the user's tickets or uploaded by them; their storage keys."""
    table = _table("persistence.models_help", "attachments")
    if table is None:
        return []
    where = table.c.uploader_id == user_id
    if ticket_ids:
        where = or_(where, table.c.ticket_id.in_(ticket_ids))
    keys = list(await session.scalars(select(table.c.id).where(where)))
    if keys:
        await session.execute(delete(table).where(table.c.id.in_(keys)))
    return keys


async def _scrub_outbox(session: Any, ticket_ids: list[str], event_ids: list[str]) -> None:
    """The outbox keeps a copy of each event's body: scrub them, and cancel their deliveries not yet made."""
    o = OutboxEvent
    conditions = []
    if ticket_ids:
        conditions.append(o.ticket_id.in_(ticket_ids))
    if event_ids:
        conditions.append(o.event_id.in_(event_ids))
    if not conditions:
        return
    pks = list(await session.scalars(select(o.pk).where(or_(*conditions))))
    if not pks:
        return
    await session.execute(update(o).where(o.pk.in_(pks)).values(payload=ERASED_PAYLOAD, fanned_out=True))
    d = WebhookDelivery
    await session.execute(
        update(d).where(d.event_pk.in_(pks), d.status == "pending").values(status="cancelled", last_error="data erased")
    )


__all__ = ["export_user", "erase_user", "UserExport", "ErasureReport", "TOMBSTONE"]


class PersonalDataRepository:
    """support/integrations/ports.py `PersonalData` over the ticket store's database."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def export_user(self, user_id: str, now: datetime) -> UserExport:
        return await export_user(self.store, user_id, now)

    async def erase_user(
        self, user_id: str, actor: Actor, now: datetime, attachments: AttachmentStorage | None
    ) -> ErasureReport:
        return await erase_user(self.store, user_id, actor, now, attachments)
