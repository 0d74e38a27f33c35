"""Read cursors for many joins in one query: the joins of a reconnect storm share their database round trips.

Every join sends its ticket's read cursors (`joined.reads`). Read one by one, each join cost a pooled connection's
checkout (its pre-ping: BEGIN, `;`, ROLLBACK), the query and the session around it, a third of a node's CPU in a
storm of thousands of joins. Here the tickets asked for while earlier batches are in flight wait together and go
in one `WHERE ticket_id IN (...)` query.

Fresh as a query of its own: a batch is sent only after every request in it was made, so each join still reads
what was committed before it asked (after its subscription was confirmed: no cursor moved since is missed).
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Iterable

BATCH_MAX = 500  # tickets per query: bounded, the IN list and the reply stay small
IN_FLIGHT = 2  # queries at once: a batch forms while they run; the pool keeps connections for everything else
BATCH_TIMEOUT_S = 10.0  # a stuck query fails its joins ("unavailable", the client retries) and frees its slot

Fetch = Callable[[list[str]], Awaitable[Iterable[tuple[str, str, int]]]]  # tickets -> (ticket, user, seq) rows


class CursorReads:
    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._waiting: dict[str, list[asyncio.Future[dict[str, int]]]] = {}
        self._in_flight = 0
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()  # held: a running batch is never garbage-collected

    async def read(self, ticket_id: str) -> dict[str, int]:
        """The ticket's read cursors (user id → seq), as one query would have read them just now."""
        future: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(ticket_id, []).append(future)
        self._schedule()
        return await future

    def _schedule(self) -> None:
        # On the next tick, so the joins handled in this one share the query; later ones wait for a free slot.
        if not self._scheduled and self._in_flight < IN_FLIGHT and self._waiting:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._scheduled = False
        while self._waiting and self._in_flight < IN_FLIGHT:
            tickets = list(self._waiting)[:BATCH_MAX]
            batch = {t: self._waiting.pop(t) for t in tickets}
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._run(batch), name="read-cursors")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: dict[str, list[asyncio.Future[dict[str, int]]]]) -> None:
        try:
            try:
                async with asyncio.timeout(BATCH_TIMEOUT_S):
                    rows = await self._fetch(list(batch))
            except BaseException as exc:  # every join of the batch fails as its own query would have
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
                if not isinstance(exc, Exception):
                    raise
                return
            found: dict[str, dict[str, int]] = {}
            for ticket_id, user_id, seq in rows:
                found.setdefault(ticket_id, {})[user_id] = seq
            for ticket_id, futures in batch.items():
                for future in futures:
                    if not future.done():  # a join given up meanwhile (its connection closed)
                        future.set_result(dict(found.get(ticket_id, {})))
        finally:
            self._in_flight -= 1
            self._schedule()
