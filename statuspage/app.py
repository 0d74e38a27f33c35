"""The status page service as one Starlette app: `create_app(settings)` is all a process needs.

Its own store, its own settings and its own probes; it shares only the token check (support/core/tokens.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from typing import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from statuspage import admin, api, config, desk, openapi, page, stream, subscribe, v2
from statuspage.changes import ChangeFeed
from statuspage.delivery import Deliveries
from statuspage.subscribers import LinkSigner, SubscriberStore
from statuspage.settings import StatusSettings
from support.core.tokens import TokenVerifier
from statuspage.probes import GatewayProbe
from statuspage.security import SecurityHeaders
from statuspage.service import StatusService
from statuspage.store import StatusStore
from statuspage.tables import utcnow

log = logging.getLogger("helpline.statuspage")
STATIC = Path(__file__).with_name("static")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ok = await request.app.state.service.store.ping()
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": {"database": ok}}, status_code=200 if ok else 503
    )


async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token and not secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}"):
        return api.error(401, "unauthorized", "/metrics wants the metrics token (HELPLINE_METRICS_TOKEN)")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


# Starlette answers unknown paths and methods with text/plain; every answer of this service is the error envelope.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return api.error(exc.status_code, _HTTP_CODES.get(exc.status_code, "bad_request"), str(exc.detail))


async def server_error(request: Request, exc: Exception) -> Response:
    """The last resort (a bug, a store that went away): still the envelope, never a text traceback."""
    return api.error(500, "unavailable", "the status page could not answer; try again")


async def _start_probes(service: StatusService, settings: StatusSettings) -> list[asyncio.Task[None]]:
    tasks: list[asyncio.Task[None]] = []
    if not settings.status_probe_urls:
        return tasks
    recorded = {c.id: c.status for c in await service.components()}
    for spec in service.page.components:
        if spec.probe != "gateway":
            continue

        async def report(status: str, cid: str = spec.id) -> None:
            await service.store.set_component_status(cid, status, utcnow())

        probe = GatewayProbe(
            settings.status_probe_urls, settings.status_probe_interval_s, report, recorded.get(spec.id, "operational")
        )
        task = asyncio.create_task(probe.run(), name=f"status-probe-{spec.id}")
        task.add_done_callback(_log_death)
        tasks.append(task)
    return tasks


def _log_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("status probe task died", exc_info=task.exception())


def create_app(settings: StatusSettings) -> Starlette:
    spec = config.load(settings.status_components_file)  # a bad file fails here, before the port opens

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = StatusStore(settings.status_database_url)
        await store.migrate()  # its own migrations, at start: the page must not wait for the gateway's release
        await store.sync_components(spec.components, utcnow())
        service = app.state.service = StatusService(store, spec)

        async def fingerprint() -> str:
            return json.dumps(await api.status_body(service, ""), sort_keys=True)

        app.state.changes = changes = ChangeFeed(fingerprint)
        app.state.stream_events = stream.EventCache()
        changes.start()
        app.state.subscribers = SubscriberStore(store)
        app.state.signer = LinkSigner(settings.status_subscription_secret or settings.secret or secrets.token_hex(32))
        app.state.deliveries = deliveries = Deliveries(settings, app.state.subscribers, app.state.signer, store)
        if settings.subscriptions_on:
            deliveries.start()
        tasks = await _start_probes(service, settings)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await changes.close()
            await deliveries.close()
            await store.close()
            await app.state.verifier.close()

    routes = [
        Route("/", page.render_page, methods=["GET"]),
        Route("/incidents/{id}", page.render_incident, methods=["GET"]),
        Route("/history.atom", page.atom_feed, methods=["GET"]),
        Route("/feed.atom", page.atom_feed, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *api.routes,
        *admin.routes,
        *desk.routes,
        *stream.routes,
        *subscribe.routes,
        *v2.routes,
        *openapi.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # Reads are public and readable from any origin (the widget, aggregators); writes are not offered to browsers.
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier.from_settings(settings)  # admin tokens: the gateway's keys and rules
    app.state.subscribe_budgets = subscribe.SubscribeBudgets(
        settings.status_subscribe_ip_per_hour, settings.status_subscribe_target_per_hour
    )
    return app
