"""The OpenAPI 3.1 description of the HTTP API, assembled from the routes' own msgspec types.

Each module that contributes routes declares `openapi_ops` (a list of Operation) beside them; this module finds
them through the app's routes and turns their types into JSON Schema with msgspec, so the document cannot drift
from what the handlers decode and encode. It also serves the document and a reference page that renders it.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from realtime import openapi_page
from realtime.rate_budgets import WRITE_METHODS

SCHEMA_REF = "#/components/schemas/{name}"
AUTH_LEVELS = ("none", "bearer", "staff", "admin")
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


@dataclass(frozen=True)
class Param:
    """A query parameter; `kind` is any type msgspec can describe (int, str, a Literal...)."""
    name: str
    kind: Any = str
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One (method, path) of the HTTP API: what it takes, what it answers, and who may call it."""
    method: str
    path: str
    summary: str
    auth: str = "bearer"  # none | bearer (any signed-in user) | staff (agents, admins) | admin
    request: Any = None  # the msgspec type of the JSON body, if any
    response: Any = None  # the msgspec type of the success body; None: no JSON body
    status: int = 200
    media_type: str = "application/json"
    query: tuple[Param, ...] = ()
    description: str = ""
    tag: str = ""
    also: tuple[int, ...] = ()  # other success statuses with the same body (e.g. 200 for a repeated create)
    request_media_type: str = "application/json"


def unwrap(endpoint: Any) -> Any:
    return inspect.unwrap(endpoint) if callable(endpoint) else endpoint


def route_operations(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """Every (METHOD, path) the app answers over plain HTTP (WebSocket routes and static mounts are not
    operations: /ws is described in docs/protocol.md)."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route):
            for method in route.methods or {"GET"}:
                if method != "HEAD":
                    found.add((method, route.path))
    return found


def declared_operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """The Operations of every module that serves one of the routes, in module order, without repeats."""
    modules: list[Any] = []
    for route in routes:
        if isinstance(route, Route):
            module = sys.modules.get(getattr(unwrap(route.endpoint), "__module__", ""))
            if module is not None and module not in modules:
                modules.append(module)
    ops: list[Operation] = []
    seen: set[tuple[str, str]] = set()
    for module in modules:
        for op in getattr(module, "openapi_ops", ()):
            key = (op.method.upper(), op.path)
            if key not in seen:
                seen.add(key)
                ops.append(op)
    return ops


def _content(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def build_document(routes: Iterable[BaseRoute], server_url: str | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for these routes."""
    from persistence.outbox import EVENT_BODIES
    from realtime.api import ErrorEnvelope

    routes = list(routes)
    ops = declared_operations(routes)
    types: list[Any] = [ErrorEnvelope, *EVENT_BODIES.values()]
    for op in ops:
        types.extend(t for t in (op.request, op.response) if t is not None)
        types.extend(p.kind for p in op.query)
    schemas, components = msgspec.json.schema_components(types, ref_template=SCHEMA_REF)
    schema_of = {id(t): s for t, s in zip(types, schemas)}

    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schema_of)
    webhooks = {name: {"post": {
        "operationId": "webhook_" + name.replace(".", "_"),
        "summary": f"`{name}` event",
        "description": "Sent to every endpoint subscribed to this event type; see docs/api.md for the signature.",
        "parameters": [{"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
                       for h in ("Helpline-Event-Id", "Helpline-Timestamp", "Helpline-Signature")],
        "requestBody": {"required": True, "content": _content("application/json", schema_of[id(body)])},
        "responses": {"2XX": {"description": "received; anything else is retried with backoff"}},
    }} for name, body in EVENT_BODIES.items()}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Helpline HTTP API", "version": "1",
                 "description": "Tickets, messages, help content, incidents and administration. Every call takes "
                                "`Authorization: Bearer <token>` (a JWT signed with HELPLINE_SECRET) unless marked "
                                "public. Errors answer `{\"error\": {\"code\", \"message\"}}`. The live channel, "
                                "`/ws`, is described in docs/protocol.md."},
        "paths": paths,
        "webhooks": webhooks,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def _operation(op: Operation, schema_of: dict[int, dict[str, Any]]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAM.findall(op.path)]
    parameters += [{"name": p.name, "in": "query", "required": p.required, "schema": schema_of[id(p.kind)],
                    **({"description": p.description} if p.description else {})} for p in op.query]
    error = {"description": "an error: `{\"error\": {\"code\", \"message\"}}`",
             "content": _content("application/json", schema_of[id(_error_type())])}
    if op.response is None:
        success: dict[str, Any] = {"description": "no content" if op.status == 204 else "success"}
        if op.status != 204:
            success["content"] = _content(op.media_type, {"type": "string"})
    else:
        success = {"description": "success", "content": _content(op.media_type, schema_of[id(op.response)])}
    responses = {str(op.status): success, **{str(s): success for s in op.also}, "default": error}
    if op.method.upper() in WRITE_METHODS:  # every write spends a rate budget first (realtime/rate_budgets.py)
        responses["429"] = {**error, "description": "`rate_limited`: the caller's write budget is spent (per user "
                            "with a token, per client address without one); try again after Retry-After seconds",
                            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}
    who = {"none": "Public.", "bearer": "Any signed-in user.", "staff": "Agents and admins.",
           "admin": "Admins only."}[op.auth]
    result: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', op.path).strip('_')}",
        "summary": op.summary,
        "description": f"{op.description} {who}".strip(),
        "responses": responses,
        "x-helpline-access": op.auth,
    }
    if op.tag:
        result["tags"] = [op.tag]
    if parameters:
        result["parameters"] = parameters
    if op.request is not None:
        result["requestBody"] = {"required": True, "content": _content(op.request_media_type,
                                                                       schema_of[id(op.request)])}
    result["security"] = [] if op.auth == "none" else [{"bearer": []}]
    return result


def _error_type() -> Any:
    from realtime.api import ErrorEnvelope

    return ErrorEnvelope


async def openapi_json(request: Request) -> Response:
    document = getattr(request.app.state, "openapi_document", None)
    if document is None:
        document = request.app.state.openapi_document = msgspec.json.encode(build_document(request.app.routes))
    return Response(document, media_type="application/json")


async def docs_page(request: Request) -> Response:
    return Response(openapi_page.HTML, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


async def docs_script(request: Request) -> Response:
    return Response(openapi_page.SCRIPT, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


routes = [
    Route("/api/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/docs", docs_page, methods=["GET"]),
    Route("/api/docs.js", docs_script, methods=["GET"]),
]

openapi_ops = [
    Operation("GET", "/api/openapi.json", "This document (OpenAPI 3.1)", auth="none", response=dict[str, Any],
              tag="reference"),
    Operation("GET", "/api/docs", "A readable reference page rendering this document", auth="none",
              media_type="text/html", tag="reference"),
    Operation("GET", "/api/docs.js", "The reference page's script", auth="none", media_type="text/javascript",
              tag="reference"),
]

__all__ = ["Operation", "Param", "build_document", "route_operations", "declared_operations", "routes",
           "openapi_ops"]
