"""The persistence worker's batches in flight: each written in one transaction, in stream order, and acknowledged
once its own commit is done, while the next one is already being read and written. No Redis, no database here:
the worker passes the write and the acknowledgement."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from persistence.message_rows import MessageRow


class BatchPipeline:
    """Batches written one at a time, in stream order, so that a ticket's rows are committed in seq order; each
    batch acknowledged as soon as its own commit is done, while the next one is already being written."""

    def __init__(
        self, write: Callable[[list[MessageRow]], Awaitable[bool]], ack: Callable[[Any, int], Awaitable[None]]
    ) -> None:
        self._write = write
        self._ack = ack
        self._tasks: list[asyncio.Task[None]] = []
        self._last_commit: asyncio.Future[None] | None = None

    async def put(self, ids: Any, rows: list[MessageRow]) -> None:
        """Start writing a batch once the one before is committed; returns without waiting for this one.
        A batch that failed (its ack: Redis went away) is raised here; its entries stay pending."""
        if self._last_commit is not None:
            await self._last_commit
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.remove(task)
            task.result()
        self._last_commit = asyncio.get_running_loop().create_future()
        self._tasks.append(asyncio.create_task(self._batch(ids, rows, self._last_commit), name="persist-batch"))

    async def flush(self) -> None:
        """Wait until every batch put is written and acknowledged (or left pending: stopping, database down)."""
        tasks, self._tasks, self._last_commit = self._tasks, [], None
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    async def _batch(self, ids: Any, rows: list[MessageRow], committed: asyncio.Future[None]) -> None:
        try:
            written = await self._write(rows)
        finally:
            if not committed.done():  # a put() cancelled while waiting cancels the future with it
                committed.set_result(None)
        if written:  # else stopping while the database is down: the entries stay pending for the next worker
            await self._ack(ids, len(rows))
