"""The gateway's Starlette app: /ws, the HTTP API, health, metrics, and the browser surfaces' files."""

from __future__ import annotations

import contextlib
import secrets
import ipaddress
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from helpline import tracing
from helpline.access import AccessLog
from helpline.browser_files import LOADER, LOADER_CACHE, load_widget_files, page
from helpline.node import assemble_node, open_attachment_storage
from persistence.article_events import ArticleEventRepository
from persistence.article_search import open_index
from persistence.attachments import AttachmentRepository
from persistence.audit import AuditRepository
from persistence.callbacks import CallbackRepository
from persistence.erasure import PersonalDataRepository
from persistence.incident_links import IncidentLinkRepository
from persistence.reply_mail import ReplyMailRepository
from persistence.reply_mail_runner import BackgroundNotifier, reply_notifier
from persistence.webhook_endpoints import WebhookRegistry
from persistence.webhooks import EmbeddedDispatcher
from realtime import frames
from realtime.connection import Connection
from realtime.dispatch import Gateway
from support.core.settings import Settings
from support.core.tokens import issue_token
from support.help import articles, attachments, channels
from support.help.ports import AttachmentRecords, Callbacks
from support.incidents import routes as incident_routes
from support.incidents.service import IncidentDesk, StatusEvent
from support.integrations import privacy as privacy_routes
from support.integrations import routes as admin_routes
from support.integrations.ports import AuditEntries, PersonalData, WebhookEndpoints
from support.notifications import routes as mail_routes
from support.notifications.ports import ReplyMailStore
from support.notifications.service import mail_settings
from support.tickets import routes as ticket_routes
from support.web import openapi
from support.web.http import error_response
from support.web.openapi import Operation, api_routes
from support.web.security import SecurityHeaders
from support.web.static import AssetMount
from support.workflow import desk_routes, desk_team_routes
from support.workflow import customers as customer_routes
from support.workflow import routes as workflow_routes


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Browsers always send Origin on a WebSocket handshake; other clients may not, and are not refused for it."""
    if not origin:
        return True
    origin = origin.rstrip("/")
    if origin in allowed or "*" in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host


async def websocket_endpoint(websocket: WebSocket) -> None:
    gateway: Gateway = websocket.app.state.gateway
    if websocket.app.state.draining:  # a balancer that has not yet seen /readyz go 503 retries another node
        await websocket.send_denial_response(
            error_response("unavailable", "this node is shutting down; connect to another")
        )
        return
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), gateway.settings.allowed_origins
    ):
        await websocket.close(1008)  # before accept: the server answers the handshake with HTTP 403
        return
    await Connection(websocket, gateway).run()


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    checks = await request.app.state.gateway.ready()
    draining = request.app.state.draining
    ok = all(checks.values()) and not draining
    body: dict[str, object] = {"status": "ok" if ok else "draining" if draining else "unavailable", "checks": checks}
    # The status page reads the persistence lag here, with the readiness it already probes (statuspage/probes.py);
    # only the Redis bus has a worker to lag behind.
    lag = (
        REGISTRY.get_sample_value("helpline_worker_lag_seconds")
        if request.app.state.gateway.settings.redis_url
        else None
    )
    if lag is not None:
        body["worker_lag_s"] = lag
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.gateway.settings
    if settings.metrics_port:
        return error_response("not_found", f"/metrics is served on port {settings.metrics_port}")
    return metrics_response(request, settings.metrics_token)


def metrics_response(request: Request, token: str) -> Response:
    """The process's metrics; with a token set, only for `Authorization: Bearer <token>`."""
    if token and not secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}"):
        return error_response("unauthorized", "/metrics wants the metrics token (HELPLINE_METRICS_TOKEN)")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_metrics_app(token: str) -> Starlette:
    """/metrics alone, for HELPLINE_METRICS_PORT: scrapes stay off the public port."""
    return Starlette(routes=[Route("/metrics", lambda request: metrics_response(request, token), methods=["GET"])])


async def config(request: Request) -> Response:
    return JSONResponse({"status_url": request.app.state.gateway.settings.status_url})


async def demo_tokens(request: Request) -> Response:
    """Tokens for anyone who asks, so only where that is the person at the keyboard: `helpline up` with a secret it
    generated itself (settings.demo), asked from this machine by a page this machine serves."""
    settings: Settings = request.app.state.gateway.settings
    if not settings.demo or not asked_from_this_machine(request):
        return error_response("not_found", "demo tokens exist only under `helpline up`, on this machine")
    return JSONResponse(demo_token_set(settings))


def asked_from_this_machine(request: Request) -> bool:
    """A loopback client and a loopback Host. The Host matters too: a page on another site that re-points its own
    name at 127.0.0.1 (DNS rebinding) reaches us from loopback, but under its own name."""
    client = request.client.host if request.client else ""
    try:
        host = urlsplit("//" + request.headers.get("host", "")).hostname or ""
    except ValueError:  # a Host no URL could hold, such as "[nope"
        return False
    return _is_loopback(client) and (host == "localhost" or _is_loopback(host))


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack listener
    return ip.is_loopback


def demo_token_set(settings: Settings, ttl_s: int = 7 * 24 * 3600) -> dict[str, object]:
    names = {"free": "Fran Free", "pro": "Pat Pro", "pro_plus": "Quinn ProPlus", "premium": "Priya Premium"}
    secret = settings.secret
    return {
        "customers": {
            plan: issue_token(secret, f"demo-{plan}", name, plan, "customer", ttl_s) for plan, name in names.items()
        },
        "agent": issue_token(secret, "agent-alice", "Alice (Support)", "free", "agent", ttl_s),
        "agents": [
            issue_token(secret, "agent-alice", "Alice (Support)", "free", "agent", ttl_s),
            issue_token(secret, "agent-bob", "Bob (Support)", "free", "agent", ttl_s),
        ],
        "admin": issue_token(secret, "admin-ada", "Ada (Admin)", "free", "admin", ttl_s),
        "status_url": settings.status_url,
    }


def _page_op(path: str, summary: str, media_type: str = "text/html") -> Operation:
    return Operation("GET", path, summary, auth="none", media_type=media_type, tag="pages")


# The gateway's own calls: operations, the demo tokens and the browser surfaces' pages (declared as the features'
# routes are, so the document describes them too).
own_routes = api_routes(
    (
        config,
        Operation(
            "GET",
            "/api/config",
            "What the browser code needs to know (the status page URL)",
            auth="none",
            response=dict[str, str | None],
            tag="operations",
        ),
    ),
    (healthz, Operation("GET", "/healthz", "Liveness", auth="none", response=dict[str, str], tag="operations")),
    (
        readyz,
        Operation(
            "GET",
            "/readyz",
            "Readiness: database and bus (503 when not ready or draining)",
            auth="none",
            response=dict[str, Any],
            also=(503,),
            tag="operations",
        ),
    ),
    (
        metrics,
        Operation("GET", "/metrics", "Prometheus metrics", auth="none", media_type="text/plain", tag="operations"),
    ),
    (
        demo_tokens,
        Operation(
            "GET",
            "/demo/tokens",
            "Demo sign-in tokens (`helpline up` with a generated secret, from loopback)",
            auth="none",
            response=dict[str, Any],
            tag="operations",
        ),
    ),
    (page("pages/demo.html"), _page_op("/", "The demo host page with the widget")),
    (page("pages/support.html"), _page_op("/support", "The Support tab")),
    (page("desk/dashboard.html"), _page_op("/dashboard", "The agent dashboard")),
    (page("desk/reports.html"), _page_op("/reports", "The reports page")),
    (page(LOADER, LOADER_CACHE), _page_op("/widget.js", "The embeddable widget script", "text/javascript")),
)


def create_app(settings: Settings, seed_demo: bool = False) -> "WebSocketLane":
    """The gateway app; seed_demo (only `helpline up` with a generated secret) seeds the demo data at start."""
    node = assemble_node(settings)
    gateway = node.gateway

    def push_status(event: StatusEvent) -> None:
        """The status page's live feed, as a `status` frame to every connection of this node (encoded once)."""
        frame = frames.StatusFrame(event.overall, event.incidents, event.maintenances)
        gateway.hub.broadcast_status(frames.encode(frame))

    incidents = IncidentDesk(
        settings, gateway.tickets, gateway.bus, IncidentLinkRepository(node.store), on_status=push_status
    )
    help_center = articles.HelpCenter(
        settings, open_index(node.store, settings.articles_search), ArticleEventRepository(node.store)
    )
    attachment_storage = open_attachment_storage(settings)
    widget_files = load_widget_files()  # read and compressed here, once, not per request
    notifier = reply_notifier(settings, node.store)  # None: reply e-mails are off (no HELPLINE_SMTP_URL)
    if notifier is not None:
        gateway.tickets.opened_by_hooks.append(notifier.remember_opener)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await attachment_storage.start()
        await gateway.start()
        incidents.start()
        webhooks = EmbeddedDispatcher(settings, node.store) if not settings.redis_url else None  # else: worker
        # Reply e-mails go out from the worker on Redis, from this process in the embedded default.
        mail = BackgroundNotifier(notifier) if notifier and not settings.redis_url else None
        await help_center.start()
        if settings.demo:
            await node.desk.seed_demo_macros()
        if seed_demo:
            from helpline import demo_data

            await demo_data.seed(gateway, app.state.callbacks, node.desk)
        try:
            yield
        finally:
            if mail is not None:
                await mail.close()
            if webhooks is not None:
                await webhooks.close()
            await help_center.close()
            await incidents.close()
            await gateway.close()
            await attachment_storage.close()

    routes = [
        WebSocketRoute("/ws", websocket_endpoint),
        *ticket_routes.routes,
        *incident_routes.routes,
        *articles.routes,
        *attachments.routes,
        *channels.routes,
        *workflow_routes.routes,
        *desk_routes.routes,
        *desk_team_routes.routes,
        *customer_routes.routes,
        *admin_routes.routes,
        *privacy_routes.routes,
        *mail_routes.routes,
        *openapi.routes,
        *own_routes,
        Mount("/widget", AssetMount(widget_files), name="widget"),
    ]
    middleware = [
        Middleware(AccessLog, service="gateway", routes=routes, tracer=tracing.tracer() if settings.tracing else None),
        Middleware(SecurityHeaders, allowed_origins=settings.allowed_origins, status_url=settings.status_url),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.gateway = gateway
    app.state.desk = node.desk
    app.state.draining = False  # set by the drain on SIGTERM (realtime/drain.py): /readyz 503, new /ws refused
    app.state.incidents = incidents
    app.state.help = help_center
    app.state.attachment_storage = attachment_storage
    app.state.widget_files = widget_files
    # Typed as their ports, so that mypy checks each repository against the port the routes read it as.
    callbacks: Callbacks = CallbackRepository(node.store)
    attachment_records: AttachmentRecords = AttachmentRepository(node.store)
    webhook_endpoints: WebhookEndpoints = WebhookRegistry(node.store, settings.webhook_retry_window_s)
    audit_entries: AuditEntries = AuditRepository(node.store.sessions)
    personal_data: PersonalData = PersonalDataRepository(node.store)
    app.state.callbacks, app.state.attachments = callbacks, attachment_records
    app.state.webhooks, app.state.audit, app.state.personal_data = webhook_endpoints, audit_entries, personal_data
    reply_mail: ReplyMailStore = ReplyMailRepository(node.store)
    app.state.reply_mail, app.state.mail = reply_mail, mail_settings(settings)
    return WebSocketLane(app)


class WebSocketLane:
    """`/ws` straight to its endpoint; everything else to the Starlette app.

    The HTTP middleware (security headers, CORS, error pages) has nothing to do for a WebSocket, and each layer is a
    coroutine frame kept alive for the whole life of every connection: memory at 20,000 idle connections."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state
        self.routes = app.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            scope["app"] = self.app
            await websocket_endpoint(WebSocket(scope, receive, send))
            return
        await self.app(scope, receive, send)
