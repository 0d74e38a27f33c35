"""The embedded default's message writes on SQLite: a batch is one transaction, one call on a thread of its own.

Through aiosqlite every statement is a trip from the event loop to the connection's thread and back (a queue put,
a thread wake-up, a call_soon_threadsafe): a batch of the group writer made about a dozen trips (BEGIN, the rows, the
tickets, the endpoints, the events, COMMIT, and the pool's own), 3-5 ms of CPU and, on a busy machine, tens of
milliseconds of wall time per group, while every ack of the next group waited. Here the batch is one call on one
dedicated thread, with its own sqlite3 connection to the same file: WAL lets it write beside the async pool's
readers, and another writer (a ticket opened over HTTP) is waited for by SQLite's busy timeout on this thread, never
on the event loop.

Only sqlite3's C code runs on that thread: the SQL is written out once and every parameter is converted on the
event loop, by the column's own SQLAlchemy type (a datetime's text, a bool's 0/1), so the rows read back exactly as
the ORM wrote them. Python work on a second thread would hold the GIL against the event loop, which gives it up at
every socket write and waits up to the switch interval (5 ms) to get it back: the fan-out collapsed when the batch
was built by SQLAlchemy on the writer's thread. The one exception is rare: when a webhook endpoint takes
`message.created`, the events are built in the transaction that read the endpoints, on the thread.

Every statement is one executemany: the ORM's bulk UPDATE ran a statement per ticket (about 1.3 ms each), so a
group of a few hundred tickets held the writer for a quarter of a second.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, Sequence

import msgspec
from sqlalchemy import Engine, Table, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from persistence import message_rows, models, outbox
from persistence.models_integrations import OutboxEvent

_DIALECT = sqlite.dialect()
_TICKETS: Table = models.Ticket.__table__  # type: ignore[assignment]
_MESSAGES: Table = models.Message.__table__  # type: ignore[assignment]
_EVENTS: Table = OutboxEvent.__table__  # type: ignore[assignment]
_EVENT_COLUMNS = ("event_id", "type", "ticket_id", "internal", "payload", "created_at", "fanned_out")

# Each statement carries the whole batch in one VALUES list, so it is one sqlite3_step: sqlite3 lets the GIL go at
# every step, and on a busy machine each hand-over of the GIL between this thread and the event loop costs a wait
# for the scheduler; an executemany stepped (and handed over) once a row.
_CHUNK = 500  # rows per statement: 9 parameters a message row, far below SQLite's 32,766


def _values(rows: int, width: int) -> str:
    one = f"({', '.join('?' * width)})"
    return ", ".join([one] * rows)


@functools.lru_cache(maxsize=64)
def insert_messages(rows: int) -> str:
    columns = ", ".join(message_rows.COLUMNS)
    return f"INSERT INTO messages ({columns}) VALUES {_values(rows, len(message_rows.COLUMNS))} ON CONFLICT DO NOTHING"


@functools.lru_cache(maxsize=64)
def advance_tickets(rows: int) -> str:
    """Every column only moves forward but updated_at, which takes the batch's latest message time (as it did)."""
    return (
        "UPDATE tickets SET last_seq = max(tickets.last_seq, v.column2), updated_at = v.column3 "
        f"FROM (VALUES {_values(rows, 3)}) AS v WHERE tickets.id = v.column1"
    )


@functools.lru_cache(maxsize=64)
def first_responses(rows: int) -> str:
    return (
        "UPDATE tickets SET first_response_at = v.column2 "
        f"FROM (VALUES {_values(rows, 2)}) AS v WHERE tickets.id = v.column1 AND tickets.first_response_at IS NULL"
    )


INSERT_EVENTS = (
    f"INSERT INTO outbox_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})"
    " ON CONFLICT (event_id) DO NOTHING"
)


def _converter(table: Table, column: str) -> Callable[[Any], Any]:
    """The column type's own conversion of a value to what sqlite3 stores (identity when it has none)."""
    type_ = table.c[column].type
    process = type_.dialect_impl(_DIALECT).bind_processor(_DIALECT)
    return process if process is not None else (lambda value: value)


_MESSAGE_CONVERTERS = [_converter(_MESSAGES, name) for name in message_rows.COLUMNS]
_TICKET_TIME = _converter(_TICKETS, "updated_at")
_EVENT_CONVERTERS = [_converter(_EVENTS, name) for name in _EVENT_COLUMNS]
_endpoint_events = msgspec.json.Decoder(list[str])


PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def use_pragmas(engine: Engine) -> None:
    """WAL (readers beside the one writer), NORMAL sync (a commit is not an fsync; a power cut may lose the last
    commits, never corrupt the file), and a busy wait instead of an immediate 'database is locked'."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()


Batch = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def parameters(rows: Sequence[message_rows.MessageRow]) -> Batch:
    """The batch as sqlite3 parameters (made on the event loop): its rows, its tickets' progress, their first
    responses."""
    progress = sorted(message_rows.ticket_progress(rows).items())
    converters = _MESSAGE_CONVERTERS
    return (
        [tuple(convert(value) for convert, value in zip(converters, row)) for row in rows],
        [(ticket, p.last_seq, _TICKET_TIME(p.updated_at)) for ticket, p in progress],
        [(ticket, _TICKET_TIME(p.first_response)) for ticket, p in progress if p.first_response is not None],
    )


def events(rows: Sequence[message_rows.MessageRow], wanted: outbox.MessageEventsWanted) -> list[dict[str, Any]]:
    return [outbox.message_created(message, at) for message, at in message_rows.events_for(rows, wanted)]


def statements(batch: Batch) -> Iterator[tuple[str, list[Any]]]:
    """The batch's statements with their parameters, a chunk of rows each."""
    messages, advanced, answered = batch
    for sql, params in ((insert_messages, messages), (advance_tickets, advanced), (first_responses, answered)):
        for start in range(0, len(params), _CHUNK):
            chunk = params[start : start + _CHUNK]
            yield sql(len(chunk)), [value for row in chunk for value in row]


def write_batch(db: sqlite3.Connection, rows: Sequence[message_rows.MessageRow], batch: Batch) -> None:
    """One transaction: the rows, the tickets, and the `message.created` events some endpoint takes (the endpoints
    are read in it, so one that exists when the messages are written gets them)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, values in statements(batch):
            db.execute(sql, values)
        endpoints = [(_endpoint_events.decode(e), bool(i)) for e, i in db.execute(outbox.ACTIVE_ENDPOINTS_SQL)]
        wanted = outbox.message_events_wanted(endpoints)
        if wanted.visible or wanted.internal:
            db.executemany(
                INSERT_EVENTS,
                [tuple(c(e[name]) for c, name in zip(_EVENT_CONVERTERS, _EVENT_COLUMNS)) for e in events(rows, wanted)],
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class SqliteMessageWriter:
    """write(rows) for a SQLite file: one transaction on its own sqlite3 connection, on a thread of its own."""

    def __init__(self, async_url: str) -> None:
        self._path = make_url(async_url).database or ""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-messages")
        self._local = threading.local()

    @staticmethod
    def serves(async_url: str) -> bool:
        """A file database only: an in-memory one is private to its connection, so a second would see nothing."""
        url = make_url(async_url)
        return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")

    async def write(self, rows: Sequence[message_rows.MessageRow]) -> None:
        batch = parameters(rows)
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, rows, batch)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            for pragma in PRAGMAS:
                db.execute(pragma)
        return db

    def _write(self, rows: Sequence[message_rows.MessageRow], batch: Batch) -> None:
        try:
            write_batch(self._connection(), rows, batch)
        except sqlite3.Error:
            self._drop_connection()  # its state is unknown: the retry opens a new one
            raise

    def _drop_connection(self) -> None:
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._drop_connection)
        self._thread.shutdown(wait=False)


__all__ = ["SqliteMessageWriter", "use_pragmas", "parameters", "statements", "write_batch", "events", "PRAGMAS"]
