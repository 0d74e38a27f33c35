"""The embedded default's single writer: commits messages to the database in groups, in order.

A message's commit returns only after its group is in the database; a failing database is retried, never skipped,
so no seq is burned and nothing acked is lost. A busy writer gathers a short window of commits into one group.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from support.core.stores import MessageStore
from support.core.model import Message

log = logging.getLogger("helpline.writer")

# A group's fixed cost (BEGIN, the statements' steps, COMMIT writing its pages to the WAL) is about 0.1 ms of the
# event loop, as much as a dozen rows: at 2,000 messages/s, written as they came, groups are one to three messages.
# With a window a group starts at most once per window: a writer idle for longer writes at once (no delay at low
# rates), a busy one gathers what arrives until a window after its last group began. Off by default: at 2 ms it
# saved 10-13 % of the node's CPU per delivery but added 1.3-1.8 ms to p50 and did not raise the top rate
# (docs/benchmarks.md, issue 18); HELPLINE_GROUP_WINDOW_MS turns it on.
GROUP_WINDOW_S = 0.0


class GroupWriter:
    def __init__(
        self,
        store: MessageStore,
        on_written: Callable[[list[Message]], None],
        max_batch: int = 500,
        window_s: float = GROUP_WINDOW_S,
    ) -> None:
        self._store = store
        self._on_written = on_written
        self._max_batch = max_batch
        self._window_s = window_s
        self._queue: asyncio.Queue[tuple[Message, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-writer")

    async def close(self) -> None:
        """Write what is queued, including the group being written now, then stop."""
        if self._task and not self._task.done():
            await self._queue.join()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def write(self, message: Message) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((message, future))
        await asyncio.shield(future)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        began = -self._window_s
        while True:
            batch = [await self._queue.get()]
            wait = began + self._window_s - loop.time()
            if wait > 0 and self._queue.qsize() + 1 < self._max_batch:
                await asyncio.sleep(wait)  # the commits arriving meanwhile queue behind it, in order
            began = loop.time()
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            messages = [m for m, _ in batch]
            await self._write_until_done(messages)
            try:
                self._on_written(messages)
            except Exception:
                log.exception("publishing written messages failed")
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
                self._queue.task_done()

    async def _write_until_done(self, messages: list[Message]) -> None:
        delay = 0.05
        while True:
            try:
                await self._store.write_messages(messages)
                return
            except Exception as exc:  # the database is down or busy: hold the line, retry
                log.warning("writing %d messages failed (%s); retrying in %.1fs", len(messages), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
