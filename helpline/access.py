"""Every HTTP request, seen once: its request id (taken from X-Request-ID when valid, else made), one access log
line, and the request count and latency in /metrics, labelled by route template so the label set stays bounded.

Pure ASGI middleware around a Starlette app; WebSocket traffic passes untouched (no line per frame).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any, Iterable

from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.tracing import request_span
from support.core import log_context

log = logging.getLogger("helpline.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # what a proxy or client may hand us: no spaces, no newlines
HTTP_REQUESTS = Counter(
    "helpline_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "helpline_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CLIENT_CLOSED = 499  # nginx's "client closed request": the client left before it was answered
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: counted, logged at DEBUG only


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if REQUEST_ID.match(candidate):
                return candidate
            break
    return secrets.token_hex(16)


def route_template(routes: Iterable[BaseRoute], scope: Scope) -> str:
    """The declared path (`/api/tickets/{id}`), never the raw one: one label value per route, not per ticket."""
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _template(route)
        if match is Match.PARTIAL and partial is None:
            partial = route  # the path matched, the method did not (405)
    return _template(partial) if partial is not None else "unmatched"


def _template(route: BaseRoute) -> str:
    path = getattr(route, "path", "")
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


class AccessLog:
    def __init__(self, app: ASGIApp, service: str, routes: Iterable[BaseRoute], tracer: Any = None) -> None:
        self.app = app
        self.service = service
        self.routes = list(routes)
        self.tracer = tracer  # OpenTelemetry, when HELPLINE_TRACING is on (helpline/tracing.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = log_context.request_id.set(request_id)
        started = time.perf_counter()
        status = 500  # what an exception before any answer is counted as
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if self.tracer is None:
                await self.app(scope, receive, send_with_id)
            else:
                route = route_template(self.routes, scope)
                with request_span(self.tracer, scope["method"], route, request_id) as span:
                    await self.app(scope, receive, send_with_id)
                    span.set_attribute("http.response.status_code", status)
        except ClientDisconnect:
            # The client left while its body was still arriving (a tab closed, a client that gave up). Nobody is
            # left to answer and nothing of ours failed: no 500, no traceback, but counted, so a wave shows.
            if not answered:
                status = CLIENT_CLOSED
        finally:
            self._record(scope, status, time.perf_counter() - started)
            log_context.request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, path = scope["method"], scope["path"]
        route = route_template(self.routes, scope)
        HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
        HTTP_LATENCY.labels(self.service, method, route).observe(seconds)
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level,
                "%s %s %d %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 2)},
            )
