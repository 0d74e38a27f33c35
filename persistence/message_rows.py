"""Committed messages as rows of the `messages` table, and the batch write of those rows to PostgreSQL.

The write goes through the driver connection (asyncpg) under SQLAlchemy's pool, in one transaction: the rows by
COPY (idempotent on (ticket, seq): a replay is written again skipping the rows already there), one UPDATE of the
batch's tickets, and the batch's `message.created` events only when an endpoint takes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

import msgspec

from persistence import outbox
from support.core.clock import iso, parse_iso
from support.core.model import Message, User

# ticket_id, seq, client_id, author_id, author_name, author_role, body, internal, created_at
MessageRow = tuple[str, int, str, str, str, str, str, bool, datetime]
COLUMNS = ("ticket_id", "seq", "client_id", "author_id", "author_name", "author_role", "body", "internal", "created_at")

# Every row is new but in a replay, so the common case is a plain COPY, with no conflict check (ON CONFLICT costs
# about as much again as the insert itself); a replay raises unique_violation and is written again with this.
# No conflict target on purpose: a row already there conflicts on (ticket, seq) when replayed, or on (ticket,
# author, client_id) when the bus no longer knew the author's key (a retry older than what Redis seeded after a
# loss); both are the same author's message already stored. Another author's client_id conflicts with nothing.
_INSERT_SKIPPING_EXISTING = f"""
    INSERT INTO messages ({", ".join(COLUMNS)})
    SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[],
                         $7::text[], $8::boolean[], $9::timestamptz[])
    ON CONFLICT DO NOTHING
"""
_UNIQUE_VIOLATION = "23505"
# Replaying a batch changes nothing: every column only moves forward.
_ADVANCE_TICKETS = """
    UPDATE tickets AS t
    SET last_seq = GREATEST(t.last_seq, v.last_seq),
        updated_at = GREATEST(t.updated_at, v.updated_at),
        first_response_at = COALESCE(t.first_response_at, v.first_response)
    FROM unnest($1::varchar[], $2::bigint[], $3::timestamptz[], $4::timestamptz[])
         AS v(id, last_seq, updated_at, first_response)
    WHERE t.id = v.id
"""


class TicketProgress(msgspec.Struct):
    """What a batch moves forward on one ticket."""

    last_seq: int
    updated_at: datetime
    first_response: datetime | None = None


class StoredDraft(msgspec.Struct):
    """A persistence stream entry's draft (realtime/bus/base.py Draft, field for field), its time parsed in C."""

    ticket: str
    client_id: str
    author: User
    body: str
    internal: bool
    created_at: datetime


def row_of_message(message: Message) -> MessageRow:
    a = message.author
    return (
        message.ticket,
        message.seq,
        message.client_id,
        a.id,
        a.name,
        a.role,
        message.body,
        message.internal,
        parse_iso(message.created_at),
    )


def message_of_row(row: MessageRow) -> Message:
    ticket, seq, client_id, author_id, author_name, author_role, body, internal, created_at = row
    return Message(
        id=f"{ticket}:{seq}",
        ticket=ticket,
        seq=seq,
        client_id=client_id,
        author=User(id=author_id, name=author_name, role=author_role),
        body=body,
        internal=internal,
        created_at=iso(created_at) or "",
    )


def events_for(rows: Sequence[MessageRow], wanted: outbox.MessageEventsWanted) -> list[tuple[Message, datetime]]:
    """The rows whose `message.created` event some endpoint takes, as (message, its time)."""
    if not (wanted.visible or wanted.internal):
        return []
    return [(message_of_row(row), row[8]) for row in rows if wanted(row[7])]


def ticket_progress(rows: Sequence[MessageRow]) -> dict[str, TicketProgress]:
    """Per ticket of a batch: its highest seq, its latest message time, its first reply by an agent (not a note)."""
    progress: dict[str, TicketProgress] = {}
    for ticket, seq, _client_id, _author_id, _author_name, role, _body, internal, created_at in rows:
        p = progress.get(ticket)
        if p is None:
            p = progress[ticket] = TicketProgress(seq, created_at)
        else:
            p.last_seq = max(p.last_seq, seq)
            p.updated_at = max(p.updated_at, created_at)
        if role in ("agent", "admin") and not internal and (p.first_response is None or created_at < p.first_response):
            p.first_response = created_at
    return progress


async def write_rows_postgresql(driver: Any, rows: Sequence[MessageRow]) -> None:
    """One transaction on an asyncpg connection: the rows, their tickets' progress, and the wanted events.
    Idempotent: rows already written (the batch's ack was lost, or it was claimed from a slow worker) are skipped."""
    try:
        await _write_batch(driver, rows, replay=False)
    except Exception as exc:
        if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        await _write_batch(driver, rows, replay=True)


async def _write_batch(driver: Any, rows: Sequence[MessageRow], replay: bool) -> None:
    """Endpoints are read last, just before the commit, so one registered while the batch was written is seen."""
    progress = ticket_progress(rows)
    ids = sorted(progress)  # the same lock order in every worker
    async with driver.transaction():
        if replay:
            await driver.execute(_INSERT_SKIPPING_EXISTING, *(list(column) for column in zip(*rows)))
        else:
            await driver.copy_records_to_table("messages", records=rows, columns=COLUMNS)
        await driver.execute(
            _ADVANCE_TICKETS,
            ids,
            [progress[i].last_seq for i in ids],
            [progress[i].updated_at for i in ids],
            [progress[i].first_response for i in ids],
        )
        endpoints = await driver.fetch(outbox.ACTIVE_ENDPOINTS_SQL)
        wanted = outbox.message_events_wanted((_json_list(r[0]), r[1]) for r in endpoints)
        events = events_for(rows, wanted)
        if events:
            await driver.execute(outbox.INSERT_MESSAGE_EVENTS_SQL, *outbox.message_event_columns(events))


def _json_list(value: Any) -> list[str]:
    # asyncpg hands `json` columns back as text unless a codec was set (SQLAlchemy's dialect sets one).
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else list(value)


__all__ = [
    "MessageRow",
    "COLUMNS",
    "StoredDraft",
    "TicketProgress",
    "row_of_message",
    "message_of_row",
    "events_for",
    "ticket_progress",
    "write_rows_postgresql",
]
