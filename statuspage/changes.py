"""Change detection for the status page: one task per process notices that what the page shows has changed and
wakes every waiting stream (`/api/stream`, the subscriptions' deliveries).

It is told at once by this process's writes (`notify`) and also compares the page's snapshot every `CHECK_S`, so a
change made by another status process on the same database, a probe or a maintenance that starts by the clock is
seen too. It never writes anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

log = logging.getLogger("helpline.statuspage")

CHECK_S = 2.0  # how stale another process's change may be here, at most; one snapshot query per period


class ChangeFeed:
    """`version` grows by one each time the fingerprint of the page changes; `wait` blocks until it has."""

    def __init__(self, fingerprint: Callable[[], Awaitable[str]], check_s: float = CHECK_S) -> None:
        self._fingerprint, self.check_s = fingerprint, check_s
        self.version = 0
        self._last: str | None = None
        self._poke = asyncio.Event()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="status-change-feed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def notify(self) -> None:
        """A write of this process committed: look now instead of at the next period."""
        self._poke.set()

    async def wait(self, after: int, timeout_s: float) -> int:
        """The version once it is past `after`, or the current one after `timeout_s` (a keep-alive is due)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version > after), timeout_s)
            return self.version

    async def check(self) -> bool:
        """Compare the page with the last look; True (and version + 1) when it changed."""
        now = await self._fingerprint()
        if now == self._last:
            return False
        first, self._last = self._last is None, now
        if first:
            return False  # the state at start-up is the baseline, not a change
        async with self._changed:
            self.version += 1
            self._changed.notify_all()
        return True

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:  # a store that went away for a moment: try again next period
                log.warning("status change check failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.check_s)
            self._poke.clear()
