"""The ticket history in SQL: every query the gateway and the workers make, on SQLite or PostgreSQL.

Writes of messages are idempotent on (ticket, seq), so a batch may be replayed after a crash; a message's
client_id is unique per (ticket, author), never per ticket alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from persistence import audit, cursor_reads, message_rows, models, models_desk, models_incidents, outbox, sqlite_writes
from support.core import policy
from support.core.clock import as_utc, iso, parse_iso, utcnow
from support.core.model import Customer, Message, TicketView, User
from support.core.stores import UNSET, NewTicket

__all__ = ["UNSET", "NewTicket", "TicketStore", "create_engine", "message_view", "ticket_view"]


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        sqlite_writes.use_pragmas(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def ticket_view(row: models.Ticket, read_seq: int | None = None) -> TicketView:
    return TicketView(
        id=row.id,
        subject=row.subject,
        status=row.status,
        plan=row.plan,
        priority=row.priority,
        category=row.category,
        customer=Customer(id=row.customer_id, name=row.customer_name),
        assignee=row.assignee,
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
        last_seq=row.last_seq,
        first_response_due=iso(row.first_response_due),
        first_response_at=iso(row.first_response_at),
        solved_at=iso(row.solved_at),
        page_url=row.page_url,
        context=row.context,
        read_seq=read_seq,
        reviewed_at=iso(row.reviewed_at),
        follow_up_of=row.follow_up_of,
        tags=list(row.tags or ()),
        first_response_breached=policy.first_response_breached(
            _utc(row.first_response_due), _utc(row.first_response_at), utcnow()
        ),
        resolution_s=None
        if row.solved_at is None
        else policy.resolution_seconds(as_utc(row.created_at), as_utc(row.solved_at)),
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def message_view(row: models.Message) -> Message:
    return Message(
        id=f"{row.ticket_id}:{row.seq}",
        ticket=row.ticket_id,
        seq=row.seq,
        client_id=row.client_id,
        author=User(id=row.author_id, name=row.author_name, role=row.author_role),
        body=row.body,
        internal=row.internal,
        created_at=iso(row.created_at) or "",
    )


def _message_row(message: Message) -> dict[str, Any]:
    return {
        "ticket_id": message.ticket,
        "seq": message.seq,
        "client_id": message.client_id,
        "author_id": message.author.id,
        "author_name": message.author.name,
        "author_role": message.author.role,
        "body": message.body,
        "internal": message.internal,
        "created_at": parse_iso(message.created_at),
    }


class TicketStore:
    """Queries over tickets, messages and read cursors; one instance per process, sharing a pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        # Message batches on a SQLite file go through a synchronous connection on a thread of their own.
        self._sqlite_writer = (
            sqlite_writes.SqliteMessageWriter(url) if sqlite_writes.SqliteMessageWriter.serves(url) else None
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads on every join need no transaction: autocommit spares a BEGIN and a ROLLBACK round trip each.
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.reads = async_sessionmaker(self._autocommit, expire_on_commit=False)
        self._cursor_reads = cursor_reads.CursorReads(self._cursors_of)  # concurrent joins share one query

    async def close(self) -> None:
        if self._sqlite_writer is not None:
            await self._sqlite_writer.close()
        await self.engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(select(1))
            return True
        except Exception:
            return False

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    async def create_ticket(self, new: NewTicket, first: Message) -> tuple[TicketView, bool]:
        """Insert the ticket and its first message in one transaction; the same client_id returns the first."""
        if new.client_id:
            existing = await self._ticket_by_client_id(new.customer.id, new.client_id)
            if existing is not None:
                return existing, False
        row = models.Ticket(
            id=new.id,
            customer_id=new.customer.id,
            customer_name=new.customer.name,
            client_id=new.client_id,
            subject=new.subject,
            category=new.category,
            status="open",
            plan=new.plan,
            priority=new.priority,
            assignee=None,
            page_url=new.page_url,
            context=new.context,
            created_at=new.created_at,
            updated_at=new.created_at,
            last_seq=first.seq,
            first_response_due=new.first_response_due,
            follow_up_of=new.follow_up_of,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(row)
                await session.flush()
                await session.execute(self._insert(models.Message).values(_message_row(first)))
                await outbox.add_events(
                    session,
                    self.dialect,
                    [
                        outbox.ticket_created(ticket_view(row), new.created_at),
                        outbox.message_created(first, new.created_at),
                    ],
                )
        except Exception:
            # A concurrent request with the same client_id won the race: answer with its ticket.
            if new.client_id:
                existing = await self._ticket_by_client_id(new.customer.id, new.client_id)
                if existing is not None:
                    return existing, False
            raise
        return ticket_view(row), True

    async def _ticket_by_client_id(self, customer_id: str, client_id: str) -> TicketView | None:
        async with self.sessions() as session:
            row = await session.scalar(
                select(models.Ticket).where(
                    models.Ticket.customer_id == customer_id, models.Ticket.client_id == client_id
                )
            )
            return None if row is None else ticket_view(row)

    async def get_ticket(self, ticket_id: str, reader_id: str | None = None) -> TicketView | None:
        async with self.sessions() as session:
            row = await session.get(models.Ticket, ticket_id)
            if row is None:
                return None
            read_seq = None
            if reader_id is not None:
                cursor = await session.get(models.ReadCursor, (ticket_id, reader_id))
                read_seq = cursor.seq if cursor else 0
            return ticket_view(row, read_seq)

    async def follow_ups_of(self, ticket_id: str) -> list[str]:
        """The tickets opened as follow-ups of this one, oldest first."""
        async with self.reads() as session:
            rows = await session.execute(
                select(models.Ticket.id)
                .where(models.Ticket.follow_up_of == ticket_id)
                .order_by(models.Ticket.created_at, models.Ticket.id)
            )
            return [r[0] for r in rows]

    async def list_customer_tickets(self, customer_id: str, offset: int, limit: int) -> list[TicketView]:
        query = (
            select(models.Ticket)
            .where(models.Ticket.customer_id == customer_id)
            .order_by(models.Ticket.updated_at.desc(), models.Ticket.id.desc())
        )
        return await self._with_read_seqs(query.offset(offset).limit(limit), customer_id, unread=True)

    async def list_queue(
        self,
        viewer_id: str,
        offset: int,
        limit: int,
        statuses: Sequence[str],
        plan: str | None = None,
        assignee: str | None = None,
        tag: str | None = None,
    ) -> list[TicketView]:
        """The agents' queue in contract order: due time (none last), then priority, then age."""
        t = models.Ticket
        query = select(t).where(t.status.in_(statuses))
        if plan:
            query = query.where(t.plan == plan)
        if assignee:
            query = query.where(t.assignee == assignee)
        if tag:
            tt = models_desk.TicketTag
            query = query.where(t.id.in_(select(tt.ticket_id).where(tt.tag == tag)))
        query = query.order_by(t.first_response_due.is_(None), t.first_response_due, t.priority, t.created_at, t.id)
        return await self._with_read_seqs(query.offset(offset).limit(limit), viewer_id)

    async def _with_read_seqs(self, query: Any, reader_id: str, unread: bool = False) -> list[TicketView]:
        """The views with the reader's read cursor; with `unread`, a customer's count of what they have not read."""
        async with self.sessions() as session:
            rows = list(await session.scalars(query))
            if not rows:
                return []
            cursors = dict(
                (
                    await session.execute(
                        select(models.ReadCursor.ticket_id, models.ReadCursor.seq).where(
                            models.ReadCursor.user_id == reader_id,
                            models.ReadCursor.ticket_id.in_([r.id for r in rows]),
                        )
                    )
                ).all()
            )
            views = [ticket_view(r, cursors.get(r.id, 0)) for r in rows]
            if unread:
                counts = await _unread_counts(session, reader_id, [r.id for r in rows])
                for view in views:
                    view.unread = counts.get(view.id, 0)
            return views

    async def update_ticket(
        self, ticket_id: str, now: datetime, status: str | None = None, assignee: Any = UNSET, actor: Any = None
    ) -> TicketView | None:
        """`actor` (an Identity) is who made the change by hand: it goes to the audit log with it."""
        async with self.sessions.begin() as session:
            row = await session.get(models.Ticket, ticket_id, with_for_update=self.dialect == "postgresql")
            if row is None:
                return None
            before = ticket_view(row)
            if status is not None and status != row.status:
                row.status = status
                row.solved_at = now if status == "solved" else (row.solved_at if status == "closed" else None)
            if assignee is not UNSET:
                row.assignee = assignee
            row.updated_at = max(as_utc(row.updated_at), now)
            await session.flush()
            after = ticket_view(row)
            await audit.record_ticket_change(session, self.dialect, before, after, actor, now)
            return after

    async def write_messages(self, messages: Iterable[Message]) -> None:
        """Idempotently write committed messages (a replay changes nothing) and advance their tickets."""
        await self.write_rows([message_rows.row_of_message(m) for m in messages])

    async def write_rows(self, rows: Sequence[message_rows.MessageRow]) -> None:
        """write_messages for rows already in table order (the worker decodes the stream straight into them).
        `message.created` events are added in the same transaction when an active endpoint takes them."""
        if not rows:
            return
        if self.dialect == "postgresql":
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                try:
                    await message_rows.write_rows_postgresql(raw.driver_connection, rows)
                except BaseException:
                    await conn.invalidate()  # the driver's state is unknown to the pool: never reuse it
                    raise
            return
        await self._write_rows_portable(rows)

    async def _write_rows_portable(self, rows: Sequence[message_rows.MessageRow]) -> None:
        """SQLite (the embedded default): one transaction on the writer's own thread (persistence/sqlite_writes.py);
        an in-memory database, private to its connection, takes the same statements through the async pool."""
        if self._sqlite_writer is not None:
            await self._sqlite_writer.write(rows)
            return
        async with self.sessions.begin() as session:
            conn = await session.connection()
            for sql, values in sqlite_writes.statements(sqlite_writes.parameters(rows)):
                await conn.exec_driver_sql(sql, tuple(values))
            wanted = await outbox.wanted_message_events(session)
            await outbox.add_events(session, self.dialect, sqlite_writes.events(rows, wanted))

    async def messages_after(self, ticket_id: str, after_seq: int, limit: int, include_internal: bool) -> list[Message]:
        async with self.reads() as session:
            rows = await session.scalars(_messages_after(ticket_id, after_seq, limit, include_internal))
            return [message_view(r) for r in rows]

    async def latest_messages(self, ticket_id: str, count: int, include_internal: bool) -> list[Message]:
        m = models.Message
        query = select(m).where(m.ticket_id == ticket_id)
        if not include_internal:
            query = query.where(m.internal.is_(False))
        async with self.sessions() as session:
            rows = list(await session.scalars(query.order_by(m.seq.desc()).limit(count)))
        return [message_view(r) for r in reversed(rows)]

    async def max_seq(self, ticket_id: str) -> int:
        async with self.sessions() as session:
            value = await session.scalar(
                select(func.max(models.Message.seq)).where(models.Message.ticket_id == ticket_id)
            )
            return int(value or 0)

    async def message_by_client_id(self, ticket_id: str, author_id: str, client_id: str) -> Message | None:
        """This author's message with this client_id: the idempotency key is (ticket, author, client_id), so a
        client_id that another author used finds nothing here."""
        m = models.Message
        async with self.sessions() as session:
            row = await session.scalar(
                select(m).where(m.ticket_id == ticket_id, m.author_id == author_id, m.client_id == client_id)
            )
            return None if row is None else message_view(row)

    async def set_read(self, ticket_id: str, user_id: str, seq: int, now: datetime) -> None:
        c = models.ReadCursor
        statement = self._insert(c).values(ticket_id=ticket_id, user_id=user_id, seq=seq, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[c.ticket_id, c.user_id],
            set_={
                "seq": func.max(c.seq, seq) if self.dialect == "sqlite" else func.greatest(c.seq, seq),
                "updated_at": now,
            },
        )
        async with self.sessions.begin() as session:
            await session.execute(statement)

    async def messages_and_cursors(
        self, ticket_id: str, after_seq: int, limit: int
    ) -> tuple[list[Message], dict[str, int]]:
        """A join's reads in one session: the messages after a seq (internal ones too) and every read cursor."""
        async with self.reads() as session:
            rows = await session.scalars(_messages_after(ticket_id, after_seq, limit, include_internal=True))
            messages = [message_view(r) for r in rows]
            cursors = dict((await session.execute(_read_cursors(ticket_id))).all())
        return messages, cursors

    async def incident_of(self, ticket_id: str) -> str | None:
        """The status page incident a ticket follows (persistence/incident_links.py links them)."""
        t = models_incidents.TicketIncident
        async with self.sessions() as session:
            return await session.scalar(select(t.incident_id).where(t.ticket_id == ticket_id))

    async def incidents_of(self, ticket_ids: Sequence[str]) -> dict[str, str]:
        if not ticket_ids:
            return {}
        t = models_incidents.TicketIncident
        async with self.sessions() as session:
            rows = await session.execute(select(t.ticket_id, t.incident_id).where(t.ticket_id.in_(list(ticket_ids))))
            return dict(rows.all())

    async def read_cursors(self, ticket_id: str) -> dict[str, int]:
        return await self._cursor_reads.read(ticket_id)

    async def _cursors_of(self, ticket_ids: list[str]) -> list[tuple[str, str, int]]:
        c = models.ReadCursor
        # A Core connection, not an ORM session: plain rows need no identity map or session transaction.
        async with self._autocommit.connect() as conn:
            rows = await conn.execute(select(c.ticket_id, c.user_id, c.seq).where(c.ticket_id.in_(ticket_ids)))
            return [(t, u, s) for t, u, s in rows.all()]


def _messages_after(ticket_id: str, after_seq: int, limit: int, include_internal: bool) -> Select[Any]:
    m = models.Message
    query = select(m).where(m.ticket_id == ticket_id, m.seq > after_seq)
    if not include_internal:
        query = query.where(m.internal.is_(False))
    return query.order_by(m.seq).limit(limit)


def _read_cursors(ticket_id: str) -> Select[str, int]:
    c = models.ReadCursor
    return select(c.user_id, c.seq).where(c.ticket_id == ticket_id)


async def _unread_counts(session: Any, reader_id: str, ticket_ids: list[str]) -> dict[str, int]:
    """Per ticket, the messages after the reader's cursor that a customer sees and did not write: not
    last_seq - read_seq, which counts their own messages (sent by mail, or from another device) and internal notes
    they will never see. One grouped read for the page, on the (ticket_id, seq) index."""
    m, cursor = models.Message, models.ReadCursor
    rows = await session.execute(
        select(m.ticket_id, func.count())
        .select_from(m)
        .outerjoin(cursor, and_(cursor.ticket_id == m.ticket_id, cursor.user_id == reader_id))
        .where(
            m.ticket_id.in_(ticket_ids),
            m.internal.is_(False),
            m.author_id != reader_id,
            m.seq > func.coalesce(cursor.seq, 0),
        )
        .group_by(m.ticket_id)
    )
    return {ticket_id: count for ticket_id, count in rows.all()}


__all__ = ["TicketStore", "NewTicket", "UNSET"]
