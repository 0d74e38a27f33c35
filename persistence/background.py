"""A loop that runs beside a process's main work until told to stop: the webhook dispatcher and the reply e-mails
in the embedded gateway and in the worker. Stopping waits for the round in hand (bounded), and a loop that dies
says so in the log instead of vanishing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Coroutine

log = logging.getLogger("helpline.background")


class BackgroundLoop:
    def __init__(
        self, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str, stop_timeout_s: float
    ) -> None:
        self.name = name
        self._stop = asyncio.Event()
        self._stop_timeout_s = stop_timeout_s
        self._task: asyncio.Task[None] = asyncio.create_task(run(self._stop), name=name)
        self._task.add_done_callback(self._report_death)

    async def close(self) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._stop_timeout_s)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        except Exception:
            pass  # already logged by _report_death

    def _report_death(self, task: "asyncio.Task[None]") -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s died", self.name, exc_info=task.exception())
