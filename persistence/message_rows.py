"""Committed messages as rows of the `messages` table, and the batch write of those rows to PostgreSQL.

The write goes through the driver connection (asyncpg) under SQLAlchemy's pool: COPY into a session-local staging
table, one INSERT from it (idempotent on (ticket, seq): a replay skips the rows already there), one UPDATE of the
batch's tickets, and the batch's `message.created` events only when an endpoint takes them; in one transaction.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any, Sequence

import msgspec

from persistence import outbox
from realtime.clock import iso, parse_iso
from realtime.protocol import Message, User

# ticket_id, seq, client_id, author_id, author_name, author_role, body, internal, created_at
MessageRow = tuple[str, int, str, str, str, str, str, bool, datetime]
COLUMNS = ("ticket_id", "seq", "client_id", "author_id", "author_name", "author_role", "body", "internal",
           "created_at")

_STAGE = "message_stage"
_CREATE_STAGE = f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (
        ticket_id varchar, seq bigint, client_id varchar, author_id varchar, author_name varchar,
        author_role varchar, body text, internal boolean, created_at timestamptz
    ) ON COMMIT DELETE ROWS
"""
# Every row is new but in a replay, so the common case pays for no conflict check (ON CONFLICT costs about as
# much again as the insert itself); a replay raises unique_violation and is written again skipping what is there.
_INSERT_FROM_STAGE = f"INSERT INTO messages ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM {_STAGE}"
_INSERT_NEW_FROM_STAGE = _INSERT_FROM_STAGE + " ON CONFLICT DO NOTHING"
_UNIQUE_VIOLATION = "23505"
# Replaying a batch changes nothing: every column only moves forward.
_ADVANCE_TICKETS_FROM_STAGE = f"""
    UPDATE tickets AS t
    SET last_seq = GREATEST(t.last_seq, v.last_seq),
        updated_at = GREATEST(t.updated_at, v.updated_at),
        first_response_at = COALESCE(t.first_response_at, v.first_response)
    FROM (SELECT ticket_id, max(seq) AS last_seq, max(created_at) AS updated_at,
                 min(created_at) FILTER (WHERE author_role IN ('agent', 'admin') AND NOT internal) AS first_response
          FROM {_STAGE} GROUP BY ticket_id ORDER BY ticket_id) AS v
    WHERE t.id = v.ticket_id
"""

_staged: "weakref.WeakSet[Any]" = weakref.WeakSet()  # driver connections that have the staging table


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
    return (message.ticket, message.seq, message.client_id, a.id, a.name, a.role, message.body, message.internal,
            parse_iso(message.created_at))


def message_of_row(row: MessageRow) -> Message:
    ticket, seq, client_id, author_id, author_name, author_role, body, internal, created_at = row
    return Message(id=f"{ticket}:{seq}", ticket=ticket, seq=seq, client_id=client_id,
                   author=User(id=author_id, name=author_name, role=author_role), body=body, internal=internal,
                   created_at=iso(created_at) or "")


def events_for(rows: Sequence[MessageRow], wanted: outbox.MessageEventsWanted) -> list[tuple[Message, datetime]]:
    """The rows whose `message.created` event some endpoint takes, as (message, its time)."""
    if not (wanted.visible or wanted.internal):
        return []
    return [(message_of_row(row), row[8]) for row in rows if wanted(row[7])]


async def write_rows_postgresql(driver: Any, rows: Sequence[MessageRow]) -> None:
    """One transaction on an asyncpg connection: the rows, their tickets' progress, and the wanted events.
    Idempotent: rows already written (the batch's ack was lost, or it was claimed from a slow worker) are skipped."""
    if driver not in _staged:
        await driver.execute(_CREATE_STAGE)  # outside the transaction: a rollback must not drop it
        _staged.add(driver)
    try:
        try:
            await _write_batch(driver, rows, _INSERT_FROM_STAGE)
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != _UNIQUE_VIOLATION:
                raise
            await _write_batch(driver, rows, _INSERT_NEW_FROM_STAGE)
    except BaseException:
        _staged.discard(driver)  # whatever went wrong, the retry checks the staging table again
        raise


async def _write_batch(driver: Any, rows: Sequence[MessageRow], insert: str) -> None:
    """Endpoints are read last, just before the commit, so one registered while the batch was written is seen."""
    async with driver.transaction():
        await driver.copy_records_to_table(_STAGE, records=rows, columns=COLUMNS)
        await driver.execute(insert)
        await driver.execute(_ADVANCE_TICKETS_FROM_STAGE)
        endpoints = await driver.fetch(outbox.ACTIVE_ENDPOINTS_SQL)
        wanted = outbox.message_events_wanted((_json_list(r[0]), r[1]) for r in endpoints)
        events = events_for(rows, wanted)
        if events:
            await driver.execute(outbox.INSERT_MESSAGE_EVENTS_SQL, *outbox.message_event_columns(events))


def _json_list(value: Any) -> list[str]:
    # asyncpg hands `json` columns back as text unless a codec was set (SQLAlchemy's dialect sets one).
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else list(value)


__all__ = ["MessageRow", "COLUMNS", "StoredDraft", "row_of_message", "message_of_row",
           "events_for", "write_rows_postgresql"]
