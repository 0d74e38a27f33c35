"""The OpenAPI 3.1 document of the status page's own API (`GET /api/openapi.json`), for clients and for schemathesis.

Request bodies come from the msgspec Structs the handlers decode (statuspage/bodies.py), so the document cannot
drift from what is accepted. Small on purpose: the gateway's generator (realtime/openapi.py) is not imported here.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from statuspage import bodies

# (method, path, summary, request body type or None, success status, admin only)
OPERATIONS: tuple[tuple[str, str, str, Any, int, bool], ...] = (
    ("GET", "/api/status", "Every component's status now, active incidents and maintenances", None, 200, False),
    ("GET", "/api/incidents", "Incidents, newest first (`?state=resolved|unresolved|all`)", None, 200, False),
    ("GET", "/api/incidents/{id}", "One incident", None, 200, False),
    ("GET", "/api/maintenances", "Maintenances", None, 200, False),
    ("GET", "/api/uptime", "90 daily bars per component", None, 200, False),
    ("POST", "/api/incidents", "Open an incident", bodies.NewIncident, 201, True),
    ("POST", "/api/incidents/{id}/updates", "Add an update; `resolved` closes it", bodies.NewUpdate, 201, True),
    ("POST", "/api/maintenances", "Schedule a maintenance", bodies.NewMaintenance, 201, True),
    ("POST", "/api/maintenances/{id}/updates", "Move a maintenance on", bodies.NewUpdate, 201, True),
    ("PATCH", "/api/components/{id}", "Set a component's recorded status", bodies.ComponentChange, 200, True),
    ("GET", "/api/audit", "The incident desk's audit log: who changed what, when (newest first)", None, 200, True),
    ("GET", "/api/components", "The components an incident may name", None, 200, False),
    ("GET", "/api/v2/summary.json", "Statuspage v2 summary", None, 200, False),
    ("GET", "/api/v2/status.json", "Statuspage v2 indicator", None, 200, False),
    ("GET", "/api/v2/components.json", "Statuspage v2 components", None, 200, False),
    ("GET", "/api/v2/incidents.json", "Statuspage v2 incidents", None, 200, False),
    ("GET", "/api/v2/incidents/unresolved.json", "Statuspage v2 unresolved incidents", None, 200, False),
    ("GET", "/api/v2/scheduled-maintenances.json", "Statuspage v2 maintenances", None, 200, False),
    ("GET", "/healthz", "Liveness of the status service", None, 200, False),
)
ERROR_STATUSES = {
    "400": "bad_request",
    "401": "unauthorized",
    "403": "forbidden",
    "404": "not_found",
    "409": "conflict",
    "413": "too_large",
}


def document() -> dict[str, Any]:
    kinds = sorted({op[3] for op in OPERATIONS if op[3] is not None}, key=lambda k: k.__name__)
    schemas, components = msgspec.json.schema_components(kinds, ref_template="#/components/schemas/{name}")
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    by_kind = dict(zip(kinds, schemas))
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, kind, status, admin in OPERATIONS:
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op: dict[str, Any] = {
            "summary": summary,
            "responses": {
                str(status): {"description": "success", "content": {"application/json": {"schema": {}}}},
                **{code: {"description": name, **error} for code, name in ERROR_STATUSES.items()},
            },
        }
        if "{id}" in path:
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        if kind is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": by_kind[kind]}}}
        if admin:
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Helpline status page", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


_DOCUMENT = document()


async def openapi_json(request: Request) -> Response:
    return JSONResponse(_DOCUMENT)


routes = [Route("/api/openapi.json", openapi_json, methods=["GET"])]
