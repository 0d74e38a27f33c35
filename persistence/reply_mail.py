"""The reply e-mails in SQL: support/notifications/ports.py `ReplyMailStore` over `contacts` and `reply_mail`.

The look for quiet replies reads only tickets active since the look-back (index on tickets.updated_at) and, per
ticket, its newest public agent reply through the (ticket_id, seq) key; the claim is a compare-and-set on the
ticket's mark, so workers that look at the same time send one e-mail between them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from persistence import models
from persistence.models_mail import Contact, ReplyMail
from persistence.store import TicketStore, message_view
from support.core.model import Message
from support.notifications.ports import QuietReply

STAFF = ("agent", "admin")


class ReplyMailRepository:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def remember_contact(self, user_id: str, email: str, locale: str | None, now: datetime) -> None:
        """Upsert the address; an unsubscribed user stays unsubscribed (a new token does not opt them back in)."""
        dialect_insert = postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert
        statement = dialect_insert(Contact).values(user_id=user_id, email=email, locale=locale, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[Contact.user_id], set_={"email": email, "locale": locale, "updated_at": now}
        )
        async with self.store.sessions.begin() as session:
            await session.execute(statement)

    async def unsubscribe(self, user_id: str, now: datetime) -> bool:
        async with self.store.sessions.begin() as session:
            await session.execute(
                update(Contact)
                .where(Contact.user_id == user_id, Contact.unsubscribed_at.is_(None))
                .values(unsubscribed_at=now)
            )
            return await session.get(Contact, user_id) is not None

    async def quiet_replies(self, quiet_before: datetime, active_since: datetime, limit: int) -> list[QuietReply]:
        m, t, r, c = models.Message, models.Ticket, ReplyMail, models.ReadCursor
        newest_reply = (
            select(m.ticket_id, func.max(m.seq).label("seq"), func.max(m.created_at).label("at"))
            .where(m.author_role.in_(STAFF), m.internal.is_(False))
            .where(m.ticket_id.in_(select(t.id).where(t.updated_at >= active_since)))
            .group_by(m.ticket_id)
            .subquery()
        )
        mailed = func.coalesce(r.mailed_seq, 0)
        read = func.coalesce(c.seq, 0)
        query = (
            select(t.id, t.subject, t.customer_id, t.customer_name, Contact.email, Contact.locale, mailed, read)
            .add_columns(newest_reply.c.seq)
            .join(newest_reply, newest_reply.c.ticket_id == t.id)
            .join(Contact, and_(Contact.user_id == t.customer_id, Contact.unsubscribed_at.is_(None)))
            .outerjoin(r, r.ticket_id == t.id)
            .outerjoin(c, and_(c.ticket_id == t.id, c.user_id == t.customer_id))
            .where(t.updated_at >= active_since, newest_reply.c.at <= quiet_before)
            .where(newest_reply.c.seq > mailed, newest_reply.c.seq > read)
            .order_by(newest_reply.c.at)
            .limit(limit)
        )
        async with self.store.reads() as session:
            rows = (await session.execute(query)).all()
        return [QuietReply(*row) for row in rows]

    async def claim(self, ticket_id: str, mailed_seq: int, reply_seq: int, now: datetime) -> bool:
        async with self.store.sessions.begin() as session:
            if mailed_seq == 0:
                try:
                    async with session.begin_nested():
                        await session.execute(
                            insert(ReplyMail).values(ticket_id=ticket_id, mailed_seq=reply_seq, mailed_at=now)
                        )
                    return True
                except IntegrityError:
                    pass  # a row exists: somebody mailed this ticket before, or is mailing it now
            result = await session.execute(
                update(ReplyMail)
                .where(ReplyMail.ticket_id == ticket_id, ReplyMail.mailed_seq == mailed_seq)
                .values(mailed_seq=reply_seq, mailed_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, ticket_id: str, reply_seq: int, mailed_seq: int) -> None:
        async with self.store.sessions.begin() as session:
            if mailed_seq == 0:
                await session.execute(
                    delete(ReplyMail).where(ReplyMail.ticket_id == ticket_id, ReplyMail.mailed_seq == reply_seq)
                )
            else:
                await session.execute(
                    update(ReplyMail)
                    .where(ReplyMail.ticket_id == ticket_id, ReplyMail.mailed_seq == reply_seq)
                    .values(mailed_seq=mailed_seq)
                )

    async def replies_after(self, ticket_id: str, after_seq: int, up_to_seq: int) -> list[Message]:
        m = models.Message
        query = (
            select(m)
            .where(m.ticket_id == ticket_id, m.seq > after_seq, m.seq <= up_to_seq)
            .where(m.author_role.in_(STAFF), m.internal.is_(False))
            .order_by(m.seq)
        )
        async with self.store.reads() as session:
            return [message_view(row) for row in await session.scalars(query)]
