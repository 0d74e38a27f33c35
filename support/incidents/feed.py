"""The live status feed of a gateway node: one streaming subscription (Server-Sent Events, `GET /api/stream`) to the
status page, so that a change reaches this node's widgets within moments instead of at their next 60 s poll.

Every event refreshes the node's cache of active incidents (the known-incident offer matches against it) and is
handed to `on_status`, which the composition root wires to a `status` frame for every connection of the node. Each
node subscribes by itself: no bus traffic, and a node whose subscription is down is the only one that falls back to
the widgets' poll. A status page that is down or answers garbage is retried with backoff; nothing here raises.
"""

from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Callable

import httpx
import msgspec

from support.incidents.status_client import StatusClient, StatusIncident

log = logging.getLogger("helpline.incidents")

READ_TIMEOUT_S = 45.0  # the page sends a keep-alive every 15 s: three missed ones mean the stream is dead
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 30.0
# Nodes and the status page start in any order (`helpline up` starts both at once): the first few failures before
# the feed ever connected are the page still starting, not news; past them it is a warning like any other.
QUIET_START_FAILURES = 3
FRAME_UPDATES = 3  # updates per incident in a `status` frame, newest first
MAX_EVENT_BYTES = 1 << 20  # a status body is a few KiB; more is not a status page talking


class StatusEvent(msgspec.Struct, forbid_unknown_fields=False):
    """What an `event: status` carries (the status page's `/api/status` body), as far as widgets need it."""

    overall: str = "operational"
    incidents: list[StatusIncident] = []
    maintenances: list[StatusIncident] = []


_decode = msgspec.json.Decoder(StatusEvent).decode


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs from the lines of a text/event-stream (comments and `retry:` skipped)."""
    event, size = "message", 0
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data, size = "message", [], 0
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                size += len(value)
                if size > MAX_EVENT_BYTES:
                    raise ValueError("status event too large")
                data.append(value)


class StatusFeed:
    """Holds the subscription open (one task); `connected` says whether pushes are arriving right now."""

    def __init__(self, client: StatusClient, on_status: Callable[[StatusEvent], None]) -> None:
        self.client, self.on_status = client, on_status
        self.connected = False
        self.latest: StatusEvent | None = None  # the last status seen: handed to connections as they arrive
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.client.base_url:
            self._task = asyncio.create_task(self._run(), name="status-feed")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        ever_connected, failures = False, 0
        timeout = httpx.Timeout(5.0, read=READ_TIMEOUT_S)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            while True:
                try:
                    async for event in self._subscribe(http):
                        backoff, ever_connected = BACKOFF_MIN_S, True
                        self._accept(event)
                    log.info("status feed ended by the status page; reconnecting")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # down, refused, timed out, garbage: the widgets' poll covers the gap
                    failures += 1
                    starting = not ever_connected and failures <= QUIET_START_FAILURES
                    level = logging.INFO if starting else logging.WARNING
                    log.log(level, "status feed unavailable (%s); retrying in %.0f s", exc, backoff)
                self.connected = False
                await asyncio.sleep(backoff)
                backoff = min(BACKOFF_MAX_S, backoff * 2)

    async def _subscribe(self, http: httpx.AsyncClient) -> AsyncIterator[StatusEvent]:
        url = f"{self.client.base_url}/api/stream"
        async with http.stream("GET", url, headers={"accept": "text/event-stream"}) as response:
            if response.status_code != 200:
                raise RuntimeError(f"the status page answered {response.status_code}")
            self.connected = True
            async for kind, data in sse_events(response.aiter_lines()):
                if kind == "status":
                    yield _decode(data)

    def _accept(self, event: StatusEvent) -> None:
        active = [i for i in event.incidents if i.resolved_at is None and i.status != "resolved"]
        self.client.accept(active)  # matching reads every update's text: the full incidents
        # Widgets show the latest update; the frame carries a few, not an incident's whole timeline.
        event = StatusEvent(
            event.overall,
            [msgspec.structs.replace(i, updates=i.updates[:FRAME_UPDATES]) for i in active],
            [msgspec.structs.replace(m, updates=m.updates[:FRAME_UPDATES]) for m in event.maintenances],
        )
        self.latest = event
        try:
            self.on_status(event)
        except Exception:  # a bad push must not end the subscription
            log.exception("status push to connections failed")
