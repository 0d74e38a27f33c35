"""The incident desk: the admins' page (`GET /desk`, its script and styles in static/) and the audit log it lists
(`GET /api/audit`). Writes go through the admin API (statuspage/api.py), which records each one in the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from statuspage.admin import admin_of
from statuspage.api import iso
from statuspage.service import StatusService
from statuspage.page import viewer_language
from statuspage.tables import AuditRow
from support.core.i18n import surface_messages

STATIC = Path(__file__).with_name("static")
AUDIT_LIMIT = 200


PREFIX = "status.desk."


def desk_words(language: str) -> str:
    """The desk's messages for a JSON data block: `<` escaped, so no text can close the element."""
    found = {k[len(PREFIX) :]: v for k, v in surface_messages(language, "status").items() if k.startswith(PREFIX)}
    return json.dumps(found, ensure_ascii=False).replace("<", "\\u003c")


async def desk_page(request: Request) -> Response:
    # The page itself is public (it is only a sign-in form until the admin's session is checked by the API).
    language = viewer_language(request)
    html = (STATIC / "desk.html").read_text(encoding="utf-8")
    html = html.replace('<html lang="en">', f'<html lang="{language}">').replace(
        "<!--words-->", f'<script type="application/json" id="desk-words">{desk_words(language)}</script>'
    )
    return HTMLResponse(html, headers={"cache-control": "no-store", "vary": "Accept-Language"})


async def audit_log(request: Request) -> Response:
    actor = await admin_of(request)
    if isinstance(actor, Response):
        return actor
    service: StatusService = request.app.state.service
    raw = request.query_params.get("limit", "50")
    limit = min(AUDIT_LIMIT, max(1, int(raw))) if raw.isdigit() and len(raw) < 6 else 50
    async with service.store._session() as s:
        rows = (await s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))).all()
    entries = [
        {
            "at": iso(r.at),
            "actor": {"id": r.actor_id, "name": r.actor_name},
            "action": r.action,
            "target": r.target_id,
            "detail": r.detail,
        }
        for r in rows
    ]
    return JSONResponse({"entries": entries})


async def desk_config(request: Request) -> Response:
    """The components to pick from, for the desk's forms (public: the page lists them too)."""
    service: StatusService = request.app.state.service
    return JSONResponse({"components": [{"id": c.id, "name": c.name} for c in service.page.components]})


routes = [
    Route("/desk", desk_page, methods=["GET"]),
    Route("/api/audit", audit_log, methods=["GET"]),
    Route("/api/components", desk_config, methods=["GET"]),
]
