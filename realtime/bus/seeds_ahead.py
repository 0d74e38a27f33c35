"""The seeds a bus starts ahead of a ticket's first commit, one per ticket, and a join's bounded wait for one.

Both buses seed a ticket (its counter, client ids and recent history, from the database) when a node subscribes to
it, off the message path; the ticket's first join on that node then reads what the seed filled instead of reading the
database a second time. A seed that fails or is slow only means the first commit or the join reads the database, as
without it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Coroutine

log = logging.getLogger("helpline.bus")

SEED_WAIT_S = 1.0  # how long a join waits for its ticket's seed before it reads the database itself
CLOSE_WAIT_S = 2.0


class SeedsAhead:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, ticket: object) -> bool:
        return ticket in self._tasks

    def start(self, ticket: str, seed: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(seed, name=f"seed {ticket}")
        self._tasks[ticket] = task
        task.add_done_callback(lambda done: self._done(ticket, done))

    async def wait(self, ticket: str) -> None:
        """Until the seed under way for this ticket (if any) has finished, for at most SEED_WAIT_S."""
        task = self._tasks.get(ticket)
        if task is not None:
            await asyncio.wait([task], timeout=SEED_WAIT_S)  # not cancelled with the join: the seed goes on

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        # Awaited, bounded: a close leaves no task behind for the event loop's own shutdown to wait on.
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)

    def _done(self, ticket: str, task: "asyncio.Task[None]") -> None:
        self._tasks.pop(ticket, None)
        if not task.cancelled() and task.exception() is not None:  # the first commit seeds instead: say why here
            log.warning("seeding %s ahead of its first commit failed: %r", ticket, task.exception())
