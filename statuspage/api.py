"""The status page's own JSON API: public reads (`/api/status`, `/api/incidents`, ...) and the admin writes.

Admin calls need a JWT with role `admin` signed with HELPLINE_SECRET; errors are `{"error": {code, message}}`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from realtime.auth import TokenError, TokenVerifier, bearer_token
from statuspage import rules
from statuspage.service import StatusService, live_maintenance
from statuspage.store import Incident, utcnow

MAX_BODY = 64 * 1024


class NewIncident(msgspec.Struct):
    name: str
    status: str
    body: str
    impact: str = "minor"
    components: list[str] = []


class NewUpdate(msgspec.Struct):
    status: str
    body: str
    impact: str | None = None
    components: list[str] | None = None


class NewMaintenance(msgspec.Struct):
    name: str
    body: str
    scheduled_for: datetime
    scheduled_until: datetime
    components: list[str] = []


class ComponentChange(msgspec.Struct):
    status: str


class BadRequest(Exception):
    pass


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def base_url(request: Request) -> str:
    service: StatusService = request.app.state.service
    return service.page.url or str(request.base_url).rstrip("/")


def incident_json(i: Incident, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i.id, "name": i.name, "status": i.status, "impact": i.impact, "components": i.components,
        "updates": [{"id": u.id, "status": u.status, "body": u.body, "created_at": iso(u.created_at)}
                    for u in i.updates],
        "created_at": iso(i.created_at), "updated_at": iso(i.updated_at), "resolved_at": iso(i.resolved_at),
        "shortlink": f"{base}/incidents/{i.id}",
    }
    if i.kind == "maintenance":
        out["scheduled_for"], out["scheduled_until"] = iso(i.scheduled_for), iso(i.scheduled_until)
    return out


async def status(request: Request) -> Response:
    service: StatusService = request.app.state.service
    snap = await service.snapshot()
    base = base_url(request)
    return JSONResponse({
        "overall": snap.overall, "indicator": snap.indicator, "description": snap.description,
        "components": [{"id": c.id, "name": c.name, "status": c.status} for c in snap.components],
        "incidents": [incident_json(i, base) for i in snap.incidents],
        "maintenances": [incident_json(m, base) for m in snap.maintenances],
        "updated_at": iso(snap.updated_at), "page_url": base,
    })


async def list_incidents(request: Request) -> Response:
    service: StatusService = request.app.state.service
    state = request.query_params.get("state", "all")
    if state == "resolved":
        found = await service.history()
    elif state in ("unresolved", "active"):
        found = await service.store.unresolved("incident")
    elif state == "all":
        found = await service.store.incidents("incident")
    else:
        return error(400, "bad_request", "state must be resolved, unresolved or all")
    base = base_url(request)
    return JSONResponse({"incidents": [incident_json(i, base) for i in found]})


async def get_incident(request: Request) -> Response:
    service: StatusService = request.app.state.service
    found = await service.store.incident(request.path_params["id"])
    if found is None:
        return error(404, "not_found", "no such incident")
    if found.kind == "maintenance":
        found = live_maintenance(found, utcnow())
    return JSONResponse({"incident": incident_json(found, base_url(request))})


async def list_maintenances(request: Request) -> Response:
    service: StatusService = request.app.state.service
    base = base_url(request)
    return JSONResponse({"maintenances": [incident_json(m, base) for m in await service.all_maintenances()]})


async def uptime(request: Request) -> Response:
    service: StatusService = request.app.state.service
    rows = await service.uptime()
    return JSONResponse({"components": [
        {"id": u.component.id, "name": u.component.name, "uptime_percent": u.percent,
         "days": [{"date": d.date.isoformat(), "status": d.status, "uptime": d.uptime} for d in u.days]}
        for u in rows]})


async def _refuse_non_admin(request: Request) -> Response | None:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return error(401, "unauthorized", "an admin token is required")
    try:
        verifier: TokenVerifier = request.app.state.verifier
        identity = await verifier.verify(token)
    except TokenError as exc:
        return error(401, "unauthorized", f"token refused: {exc}")
    if identity.role != "admin":
        return error(403, "forbidden", "only admins may change the status page")
    return None


async def _decode(request: Request, kind: type[Any]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("body too large")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from None
    except msgspec.DecodeError:
        raise BadRequest("body must be a JSON object") from None


def _check_text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise BadRequest(f"{name} must be 1..{limit} characters")
    return value


def _check_components(service: StatusService, ids: list[str]) -> list[str]:
    unknown = [c for c in ids if c not in service.known]
    if unknown:
        raise BadRequest(f"unknown components: {', '.join(unknown)}")
    return list(dict.fromkeys(ids))


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


async def create_incident(request: Request) -> Response:
    if (refused := await _refuse_non_admin(request)) is not None:
        return refused
    service: StatusService = request.app.state.service
    try:
        new = await _decode(request, NewIncident)
        if new.status not in rules.INCIDENT_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(rules.INCIDENT_STATUSES)}")
        if new.impact not in rules.IMPACTS:
            raise BadRequest(f"impact must be one of {', '.join(rules.IMPACTS)}")
        incident = await service.store.create_incident(
            kind="incident", name=_check_text("name", new.name, 300), status=new.status, impact=new.impact,
            components=_check_components(service, new.components), body=_check_text("body", new.body, 10000),
            now=utcnow())
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    return JSONResponse(incident_json(incident, base_url(request)), status_code=201)


async def add_update(request: Request) -> Response:
    if (refused := await _refuse_non_admin(request)) is not None:
        return refused
    service: StatusService = request.app.state.service
    found = await service.store.incident(request.path_params["id"])
    if found is None:
        return error(404, "not_found", "no such incident")
    allowed = rules.MAINTENANCE_STATUSES if found.kind == "maintenance" else rules.INCIDENT_STATUSES
    try:
        new = await _decode(request, NewUpdate)
        if found.resolved_at is not None:
            return error(409, "conflict", "the incident is already closed")
        if new.status not in allowed:
            raise BadRequest(f"status must be one of {', '.join(allowed)}")
        if new.impact is not None and new.impact not in rules.IMPACTS:
            raise BadRequest(f"impact must be one of {', '.join(rules.IMPACTS)}")
        components = None if new.components is None else _check_components(service, new.components)
        updated = await service.store.add_update(found.id, status=new.status, body=_check_text("body", new.body, 10000),
                                                 now=utcnow(), impact=new.impact, components=components)
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    assert updated is not None
    return JSONResponse(incident_json(updated, base_url(request)), status_code=201)


async def create_maintenance(request: Request) -> Response:
    if (refused := await _refuse_non_admin(request)) is not None:
        return refused
    service: StatusService = request.app.state.service
    try:
        new = await _decode(request, NewMaintenance)
        start, end = _utc(new.scheduled_for), _utc(new.scheduled_until)
        if end <= start:
            raise BadRequest("scheduled_until must be after scheduled_for")
        created = await service.store.create_incident(
            kind="maintenance", name=_check_text("name", new.name, 300), status="scheduled", impact="maintenance",
            components=_check_components(service, new.components), body=_check_text("body", new.body, 10000),
            now=utcnow(), scheduled_for=start, scheduled_until=end)
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    return JSONResponse(incident_json(live_maintenance(created, utcnow()), base_url(request)), status_code=201)


async def set_component(request: Request) -> Response:
    if (refused := await _refuse_non_admin(request)) is not None:
        return refused
    service: StatusService = request.app.state.service
    try:
        change = await _decode(request, ComponentChange)
        if change.status not in rules.COMPONENT_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(rules.COMPONENT_STATUSES)}")
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    cid = request.path_params["id"]
    if cid not in service.known or not await service.store.set_component_status(cid, change.status, utcnow()):
        return error(404, "not_found", "no such component")
    return JSONResponse({"id": cid, "status": change.status})


routes = [
    Route("/api/status", status, methods=["GET"]),
    Route("/api/incidents", list_incidents, methods=["GET"]),
    Route("/api/incidents", create_incident, methods=["POST"]),
    Route("/api/incidents/{id}", get_incident, methods=["GET"]),
    Route("/api/incidents/{id}/updates", add_update, methods=["POST"]),
    Route("/api/maintenances", list_maintenances, methods=["GET"]),
    Route("/api/maintenances", create_maintenance, methods=["POST"]),
    Route("/api/maintenances/{id}/updates", add_update, methods=["POST"]),
    Route("/api/uptime", uptime, methods=["GET"]),
    Route("/api/components/{id}", set_component, methods=["PATCH", "PUT"]),
]
