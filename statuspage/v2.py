"""The de-facto public status API v2 (the one Atlassian Statuspage made common), with its field names,
so aggregators and monitors written for it read this page unchanged. Read-only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from statuspage.api import base_url, iso
from statuspage.service import Snapshot, StatusService
from statuspage.store import Component, Incident


def page_id(service: StatusService) -> str:
    return hashlib.sha1(service.page.name.encode()).hexdigest()[:12]


def page_json(service: StatusService, request: Request, snap: Snapshot) -> dict[str, Any]:
    return {
        "id": page_id(service),
        "name": service.page.name,
        "url": base_url(request),
        "time_zone": service.page.time_zone,
        "updated_at": iso(snap.updated_at),
    }


def component_json(c: Component, pid: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "position": c.position,
        "description": c.description or None,
        "showcase": True,
        "start_date": c.created_at.date().isoformat(),
        "group_id": None,
        "page_id": pid,
        "group": False,
        "only_show_if_degraded": False,
    }


def incident_json(i: Incident, request: Request, pid: str, components: dict[str, Component]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i.id,
        "name": i.name,
        "status": i.status,
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "monitoring_at": iso(i.monitoring_at),
        "resolved_at": iso(i.resolved_at),
        "impact": i.impact,
        "shortlink": f"{base_url(request)}/incidents/{i.id}",
        "started_at": iso(i.scheduled_for or i.created_at),
        "page_id": pid,
        "incident_updates": [
            {
                "id": u.id,
                "status": u.status,
                "body": u.body,
                "incident_id": i.id,
                "created_at": iso(u.created_at),
                "updated_at": iso(u.created_at),
                "display_at": iso(u.created_at),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for u in i.updates
        ],
        "components": [component_json(components[c], pid) for c in i.components if c in components],
    }
    if i.kind == "maintenance":
        out.update(
            scheduled_for=iso(i.scheduled_for),
            scheduled_until=iso(i.scheduled_until),
            scheduled_remind_prior=False,
            scheduled_reminded_at=None,
            impact_override="maintenance",
            scheduled_auto_in_progress=True,
            scheduled_auto_completed=True,
        )
    return out


async def _context(request: Request) -> tuple[StatusService, Snapshot, str, dict[str, Component]]:
    service: StatusService = request.app.state.service
    snap = await service.snapshot()
    return service, snap, page_id(service), {c.id: c for c in snap.components}


async def summary(request: Request) -> Response:
    service, snap, pid, comps = await _context(request)
    return JSONResponse(
        {
            "page": page_json(service, request, snap),
            "components": [component_json(c, pid) for c in snap.components],
            "incidents": [incident_json(i, request, pid, comps) for i in snap.incidents],
            "scheduled_maintenances": [incident_json(m, request, pid, comps) for m in snap.maintenances],
            "status": {"indicator": snap.indicator, "description": snap.description},
        }
    )


async def status(request: Request) -> Response:
    service, snap, _, _ = await _context(request)
    return JSONResponse(
        {
            "page": page_json(service, request, snap),
            "status": {"indicator": snap.indicator, "description": snap.description},
        }
    )


async def components(request: Request) -> Response:
    service, snap, pid, _ = await _context(request)
    return JSONResponse(
        {"page": page_json(service, request, snap), "components": [component_json(c, pid) for c in snap.components]}
    )


async def incidents(request: Request) -> Response:
    service, snap, pid, comps = await _context(request)
    found = await service.store.incidents("incident", 50)
    return JSONResponse(
        {"page": page_json(service, request, snap), "incidents": [incident_json(i, request, pid, comps) for i in found]}
    )


async def unresolved(request: Request) -> Response:
    service, snap, pid, comps = await _context(request)
    return JSONResponse(
        {
            "page": page_json(service, request, snap),
            "incidents": [incident_json(i, request, pid, comps) for i in snap.incidents],
        }
    )


def _maintenances(which: str | None) -> Any:
    async def endpoint(request: Request) -> Response:
        service, snap, pid, comps = await _context(request)
        found = await service.all_maintenances(50)
        if which is not None:
            found = [m for m in found if m.status in which.split(",")]
        return JSONResponse(
            {
                "page": page_json(service, request, snap),
                "scheduled_maintenances": [incident_json(m, request, pid, comps) for m in found],
            }
        )

    return endpoint


routes = [
    Route("/api/v2/summary.json", summary, methods=["GET"]),
    Route("/api/v2/status.json", status, methods=["GET"]),
    Route("/api/v2/components.json", components, methods=["GET"]),
    Route("/api/v2/incidents.json", incidents, methods=["GET"]),
    Route("/api/v2/incidents/unresolved.json", unresolved, methods=["GET"]),
    Route("/api/v2/scheduled-maintenances.json", _maintenances(None), methods=["GET"]),
    Route("/api/v2/scheduled-maintenances/upcoming.json", _maintenances("scheduled"), methods=["GET"]),
    Route("/api/v2/scheduled-maintenances/active.json", _maintenances("in_progress,verifying"), methods=["GET"]),
]
