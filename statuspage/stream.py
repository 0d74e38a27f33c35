"""`GET /api/stream`: the page's status as Server-Sent Events, pushed within moments of every change.

What gateway nodes subscribe to (support/incidents/feed.py) so that widgets learn of an incident without polling.
Each event is `event: status` with the `/api/status` body as data; a comment line keeps idle connections open.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from statuspage.api import base_url, status_body
from statuspage.changes import ChangeFeed
from statuspage.service import StatusService

KEEPALIVE_S = 15.0  # well under the readers' read timeout (30 s in the gateway) and common proxy idle limits


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class EventCache:
    """One encoded event per (version, base URL): a change wakes every open stream (gateways, browsers showing the
    page), and they share one snapshot of the store instead of taking one each."""

    def __init__(self) -> None:
        self._key: tuple[int, str] | None = None
        self._event = b""
        self._lock = asyncio.Lock()

    async def event(self, service: StatusService, version: int, base: str) -> bytes:
        async with self._lock:
            if self._key != (version, base):
                self._event = sse("status", await status_body(service, base))
                self._key = (version, base)
            return self._event


async def stream(request: Request) -> Response:
    service: StatusService = request.app.state.service
    feed: ChangeFeed = request.app.state.changes
    cache: EventCache = request.app.state.stream_events
    base = base_url(request)

    async def events() -> AsyncIterator[bytes]:
        seen = feed.version
        yield b"retry: 2000\n\n" + await cache.event(service, seen, base)
        while True:
            now = await feed.wait(seen, KEEPALIVE_S)
            if now == seen:
                yield b": keep-alive\n\n"
                continue
            seen = now
            yield await cache.event(service, seen, base)

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


routes = [Route("/api/stream", stream, methods=["GET"])]
