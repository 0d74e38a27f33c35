"""The graceful drain of a node on SIGTERM: readiness off, clients told to move over a window, exit 0.

uvicorn's own shutdown closes every WebSocket at once with 1012, so a deploy would send all of a node's clients to
the others in the same second; here the gateway's drain runs first and uvicorn's shutdown finds nothing left to cut.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import socket
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Coroutine

import uvicorn

if TYPE_CHECKING:
    from realtime.dispatch import Gateway

log = logging.getLogger("helpline.drain")

GOING_AWAY = 1001
GOING_AWAY_REASON = "server going away; reconnect"
IN_FLIGHT_GRACE_S = 5.0  # after the last close is sent: how long answers to frames in progress may take


class CleanExitServer(uvicorn.Server):
    """uvicorn's server, ending with exit code 0 after a clean shutdown on SIGTERM or SIGINT.

    uvicorn records the signal and raises it again once it has shut down, so the process dies "killed by SIGTERM"
    (-15), which supervisors record as a crash; a node that drained as asked has not crashed."""

    def __init__(self, config: uvicorn.Config, drain: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: stop waiting for anything
        else:
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._drain is not None and not self.force_exit:
            drain = asyncio.create_task(self._drain(), name="drain")
            while not drain.done() and not self.force_exit:
                await asyncio.wait({drain}, timeout=0.1)
            if not drain.done():
                drain.cancel()
            elif drain.exception() is not None:
                log.error("the drain failed; shutting down at once", exc_info=drain.exception())
        started = asyncio.get_running_loop().time()
        await super().shutdown(sockets)
        log.info("shut down in %.1fs after the drain", asyncio.get_running_loop().time() - started)


def close_schedule(count: int, window_s: float, rng: random.Random) -> list[float]:
    """When (seconds from the start) each of `count` connections is told to move: uniform over the window, so
    reconnects reach the other nodes as a trickle, not as one wave."""
    return sorted(rng.uniform(0.0, window_s) for _ in range(count))


async def drain_gateway(
    gateway: "Gateway", mark_draining: Callable[[], None], window_s: float, rng: random.Random | None = None
) -> None:
    """Readiness 503 and new WebSockets refused (`mark_draining`), then every connection closed with 1001 at its
    point of the window, each after the frame it is handling (a send waiting for its commit) has been answered;
    returns when they are gone or the grace after the window is over."""
    rng = rng or random.Random()
    mark_draining()
    loop = asyncio.get_running_loop()
    connections = list(gateway.hub.connections)
    rng.shuffle(connections)
    log.info("draining: %d connections over %.1fs", len(connections), window_s)
    started = loop.time()
    for connection, at in zip(connections, close_schedule(len(connections), window_s, rng)):
        await asyncio.sleep(max(0.0, started + at - loop.time()))
        connection.close_after_frame(GOING_AWAY, GOING_AWAY_REASON)
    for connection in list(gateway.hub.connections):  # said hello while the drain was under way
        connection.close_after_frame(GOING_AWAY, GOING_AWAY_REASON)
    deadline = loop.time() + IN_FLIGHT_GRACE_S
    while gateway.hub.connections and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if gateway.hub.connections:
        log.warning(
            "drain: %d connections still open after the window; uvicorn closes them", len(gateway.hub.connections)
        )
    log.info("drained in %.1fs", loop.time() - started)
