"""The status page's own JSON API: public reads (`/api/status`, `/api/incidents`, ...) and the admin writes.

Admin calls need a JWT with role `admin` signed with HELPLINE_SECRET; errors are `{"error": {code, message}}`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from statuspage import rules
from statuspage.admin import admin_of
from statuspage.bodies import (
    INCIDENT_ID,
    BodyError,
    ComponentChange,
    NewIncident,
    NewMaintenance,
    NewUpdate,
    blank_refused,
    read_body,
    unique_known,
    utc_in_range,
)
from statuspage.service import StatusService, live_maintenance
from statuspage.store import Incident
from statuspage.tables import utcnow


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def base_url(request: Request) -> str:
    service: StatusService = request.app.state.service
    return service.page.url or str(request.base_url).rstrip("/")


def incident_json(i: Incident, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i.id,
        "name": i.name,
        "status": i.status,
        "impact": i.impact,
        "components": i.components,
        "updates": [
            {"id": u.id, "status": u.status, "body": u.body, "created_at": iso(u.created_at)} for u in i.updates
        ],
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "resolved_at": iso(i.resolved_at),
        "shortlink": f"{base}/incidents/{i.id}",
    }
    if i.kind == "maintenance":
        out["scheduled_for"], out["scheduled_until"] = iso(i.scheduled_for), iso(i.scheduled_until)
    return out


async def incident_named(request: Request, service: StatusService) -> Incident | None:
    """The incident of the path's {id}; an id that new_id could not have made names nothing (and reaches no SQL)."""
    incident_id = request.path_params["id"]
    return await service.store.incident(incident_id) if INCIDENT_ID.match(incident_id) else None


async def status_body(service: StatusService, base: str) -> dict[str, Any]:
    """What `/api/status` answers; also the payload of every `/api/stream` event."""
    snap = await service.snapshot()
    return {
        "overall": snap.overall,
        "indicator": snap.indicator,
        "description": snap.description,
        "components": [{"id": c.id, "name": c.name, "status": c.status} for c in snap.components],
        "incidents": [incident_json(i, base) for i in snap.incidents],
        "maintenances": [incident_json(m, base) for m in snap.maintenances],
        "updated_at": iso(snap.updated_at),
        "page_url": base,
    }


async def status(request: Request) -> Response:
    return JSONResponse(await status_body(request.app.state.service, base_url(request)))


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
    found = await incident_named(request, service)
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
    return JSONResponse(
        {
            "components": [
                {
                    "id": u.component.id,
                    "name": u.component.name,
                    "uptime_percent": u.percent,
                    "days": [{"date": d.date.isoformat(), "status": d.status, "uptime": d.uptime} for d in u.days],
                }
                for u in rows
            ]
        }
    )


def changed(request: Request, incident: Incident | None = None) -> None:
    """A write committed: wake the streams now, and tell the subscribers about an incident's change."""
    request.app.state.changes.notify()
    if incident is not None:
        base = base_url(request)
        request.app.state.deliveries.incident_changed(incident_json(incident, base), base)


def refusal(exc: BodyError) -> JSONResponse:
    return error(exc.status, exc.code, exc.message)


async def create_incident(request: Request) -> Response:
    actor = await admin_of(request)
    if isinstance(actor, Response):
        return actor
    service: StatusService = request.app.state.service
    try:
        new = await read_body(request, NewIncident)
        incident = await service.store.create_incident(
            kind="incident",
            name=blank_refused("name", new.name),
            status=new.status,
            impact=new.impact,
            components=unique_known(new.components, service.known),
            body=blank_refused("body", new.body),
            now=utcnow(),
            actor=actor,
        )
    except BodyError as exc:
        return refusal(exc)
    changed(request, incident)
    return JSONResponse(incident_json(incident, base_url(request)), status_code=201)


async def add_update(request: Request) -> Response:
    actor = await admin_of(request)
    if isinstance(actor, Response):
        return actor
    service: StatusService = request.app.state.service
    found = await incident_named(request, service)
    if found is None:
        return error(404, "not_found", "no such incident")
    allowed = rules.MAINTENANCE_STATUSES if found.kind == "maintenance" else rules.INCIDENT_STATUSES
    try:
        new = await read_body(request, NewUpdate)
        if found.resolved_at is not None:
            return error(409, "conflict", "the incident is already closed")
        if new.status not in allowed:
            raise BodyError("bad_request", f"status must be one of {', '.join(allowed)}")
        components = None if new.components is None else unique_known(new.components, service.known)
        updated = await service.store.add_update(
            found.id,
            status=new.status,
            body=blank_refused("body", new.body),
            now=utcnow(),
            impact=new.impact,
            components=components,
            actor=actor,
        )
    except BodyError as exc:
        return refusal(exc)
    if updated is None:  # deleted between the read and the write
        return error(404, "not_found", "no such incident")
    if updated.kind == "maintenance":
        updated = live_maintenance(updated, utcnow())
    changed(request, updated)
    return JSONResponse(incident_json(updated, base_url(request)), status_code=201)


async def create_maintenance(request: Request) -> Response:
    actor = await admin_of(request)
    if isinstance(actor, Response):
        return actor
    service: StatusService = request.app.state.service
    try:
        new = await read_body(request, NewMaintenance)
        start = utc_in_range("scheduled_for", new.scheduled_for)
        end = utc_in_range("scheduled_until", new.scheduled_until)
        if end <= start:  # each date is valid alone (the document says so); together they conflict, as 409 says
            raise BodyError("conflict", "scheduled_until must be after scheduled_for", 409)
        created = await service.store.create_incident(
            kind="maintenance",
            name=blank_refused("name", new.name),
            status="scheduled",
            impact="maintenance",
            components=unique_known(new.components, service.known),
            body=blank_refused("body", new.body),
            now=utcnow(),
            scheduled_for=start,
            scheduled_until=end,
            actor=actor,
        )
    except BodyError as exc:
        return refusal(exc)
    created = live_maintenance(created, utcnow())
    changed(request, created)
    return JSONResponse(incident_json(created, base_url(request)), status_code=201)


async def set_component(request: Request) -> Response:
    actor = await admin_of(request)
    if isinstance(actor, Response):
        return actor
    service: StatusService = request.app.state.service
    try:
        change = await read_body(request, ComponentChange)
    except BodyError as exc:
        return refusal(exc)
    cid = request.path_params["id"]
    if cid not in service.known or not await service.store.set_component_status(cid, change.status, utcnow(), actor):
        return error(404, "not_found", "no such component")
    changed(request)
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
