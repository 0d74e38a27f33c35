"""The embedded default's message writes on SQLite: a group of the writer is one transaction, made in one call.

Why not through the async pool: with aiosqlite every statement is a trip from the event loop to the connection's
thread and back (a queue put, a thread wake-up, a call_soon_threadsafe), and a group made about a dozen (BEGIN, the
rows, the tickets, the endpoints, the events, COMMIT, the pool's own): 5 ms of CPU and, on a busy machine, tens of
milliseconds of wall time for a one-message group, while the next group's acks waited. Worse, each hand-over of the
GIL between two threads waits for the scheduler when the cores are busy, and executemany hands it over at every row
(sqlite3 lets the GIL go around each step); a first version that ran SQLAlchemy on a thread of its own collapsed the
fan-out the same way.

So: the SQL is written out once, one multi-row statement per table and 500 rows (one step each), and every
parameter is converted on the event loop by its column's own SQLAlchemy type (a datetime's text, a bool's 0/1), so
rows read back exactly as the ORM wrote them. A small group (up to HERE_ROWS) is written on the event loop's own
sqlite3 connection when the write lock is free, with no busy wait and no checkpoint of its own: about 0.1 ms and no
thread at all. A larger group, or one that finds the lock taken (a ticket opened over HTTP), goes to one dedicated
thread with its own connection, where SQLite's busy timeout waits and the WAL checkpoints run (PASSIVE). WAL lets both
write beside the async pool's readers. When a webhook endpoint takes `message.created` (rare), its events are built
in the transaction that read the endpoints.

Every statement carries many rows: the ORM's bulk UPDATE ran a statement per ticket (about 1.3 ms each), so a group
of a few hundred tickets held the single writer for a quarter of a second.
"""

from __future__ import annotations

import asyncio
import functools
import logging
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

log = logging.getLogger("helpline.sqlite")
_DIALECT = sqlite.dialect()
_TICKETS: Table = models.Ticket.__table__  # type: ignore[assignment]
_MESSAGES: Table = models.Message.__table__  # type: ignore[assignment]
_EVENTS: Table = OutboxEvent.__table__  # type: ignore[assignment]
_EVENT_COLUMNS = ("event_id", "type", "ticket_id", "internal", "payload", "created_at", "fanned_out")

# Each statement carries up to _CHUNK rows in one VALUES list: one sqlite3_step (one GIL hand-over), not one a row.
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
    """Every column only moves forward, so a replayed batch (its ack was lost) cannot set a ticket back. The times
    are stored as fixed-width text, so SQLite's max orders them as times."""
    return (
        "UPDATE tickets SET last_seq = max(tickets.last_seq, v.column2), "
        "updated_at = max(tickets.updated_at, v.column3) "
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


# Batches up to this many rows are written on the event loop itself (about 0.1 ms of CPU for one message, no thread
# hand-over); larger ones, a backlog, go to the thread, where their C work overlaps the loop's.
HERE_ROWS = 100


class SqliteMessageWriter:
    """write(rows) for a SQLite file: one transaction, on the loop's own connection or on the writer's thread."""

    def __init__(self, async_url: str) -> None:
        self._path = make_url(async_url).database or ""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-messages")
        self._local = threading.local()
        self._here: sqlite3.Connection | None = None
        self._since_checkpoint = 0
        self._checkpoint: asyncio.Future[None] | None = None

    @staticmethod
    def serves(async_url: str) -> bool:
        """A file database only: an in-memory one is private to its connection, so a second would see nothing."""
        url = make_url(async_url)
        return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")

    async def write(self, rows: Sequence[message_rows.MessageRow]) -> None:
        batch = parameters(rows)
        if len(rows) <= HERE_ROWS and self._write_here(rows, batch):
            return
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, rows, batch)

    def _write_here(self, rows: Sequence[message_rows.MessageRow], batch: Batch) -> bool:
        """A small batch on the event loop's own connection when SQLite's write lock is free: no wait (busy_timeout
        0) and no checkpoint of its own (those run on the thread, PASSIVE, every 2,000 rows), so the loop blocks
        only for the C work of a commit that does not fsync. False when the lock is taken: the thread waits."""
        try:
            if self._here is None:
                self._here = sqlite3.connect(self._path, timeout=0, isolation_level=None)
                for pragma in (*PRAGMAS[:2], "PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0"):
                    self._here.execute(pragma)
            write_batch(self._here, rows, batch)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return False
            if self._here is not None:
                self._here.close()  # its state is unknown: the retry opens a new one
                self._here = None
            raise
        self._since_checkpoint += len(rows)
        if self._since_checkpoint >= 2000 and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = asyncio.get_running_loop().run_in_executor(self._thread, self._wal_checkpoint)
            self._checkpoint.add_done_callback(self._checkpointed)
        return True

    def _wal_checkpoint(self) -> None:
        self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpointed(self, done: "asyncio.Future[None]") -> None:
        self._checkpoint = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("WAL checkpoint failed (%r); the next one tries again", done.exception())

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
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        if self._here is not None:
            self._here.close()
            self._here = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._drop_connection)
        self._thread.shutdown(wait=False)


__all__ = ["SqliteMessageWriter", "use_pragmas", "parameters", "statements", "write_batch", "events", "PRAGMAS"]
