"""`GET /api/stream`: the page's status as Server-Sent Events, pushed within moments of every change.

What gateway nodes subscribe to (support/incidents/feed.py) so that widgets learn of an incident without polling.
Each event is `event: status` with the `/api/status` body as data; a comment line keeps idle connections open.
"""

from __future__ import annotations

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


async def stream(request: Request) -> Response:
    service: StatusService = request.app.state.service
    feed: ChangeFeed = request.app.state.changes
    base = base_url(request)

    async def events() -> AsyncIterator[bytes]:
        seen = feed.version
        yield b"retry: 2000\n\n" + sse("status", await status_body(service, base))
        while True:
            now = await feed.wait(seen, KEEPALIVE_S)
            if now == seen:
                yield b": keep-alive\n\n"
                continue
            seen = now
            yield sse("status", await status_body(service, base))

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


routes = [Route("/api/stream", stream, methods=["GET"])]
