"""A user's data on request: `GET /api/me/export` for every user, `POST /api/me/erase` for customers (the Support
tab's "delete my data"); an admin's export and erasure of any user.

The erasure keeps seqs gapless (bodies and names become tombstones), deletes the user's attachments and is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from support.core.clock import utcnow
from support.integrations.events import actor_of
from support.integrations.ports import ErasureReport, PersonalData, UserExport
from support.integrations.routes import audit_entries, path_id, require_admin
from support.core.errors import TicketError
from support.web.http import endpoint, identify, json_response
from support.web.openapi import Operation, api_routes

log = logging.getLogger("helpline.privacy")


def _personal_data(request: Request) -> PersonalData:
    data: PersonalData = request.app.state.personal_data
    return data


@endpoint
async def export_me(request: Request) -> Response:
    who = identify(request)
    return json_response(await _personal_data(request).export_user(who.id, utcnow()))


@endpoint
async def export_user(request: Request) -> Response:
    who = require_admin(request)
    user_id = path_id(request)
    now = utcnow()
    data = await _personal_data(request).export_user(user_id, now)
    await audit_entries(request).add(actor_of(who), "user.export", "user", user_id, {"tickets": len(data.tickets)}, now)
    return json_response(data)


@endpoint
async def erase_user(request: Request) -> Response:
    who = require_admin(request)
    user_id = path_id(request)
    gateway = request.app.state.gateway
    report = await _personal_data(request).erase_user(user_id, actor_of(who), utcnow(), _attachment_storage(request))
    await _after_erasure(gateway, report.ticket_ids)
    return json_response(report)


@endpoint
async def erase_me(request: Request) -> Response:
    """Self-service "delete my data": the admin's erasure, on the caller, audited with the caller as actor.
    Customers only: staff accounts are erased by an admin."""
    who = identify(request)
    if who.role != "customer":
        raise TicketError("forbidden", "staff data is erased by an admin")
    gateway = request.app.state.gateway
    report = await _personal_data(request).erase_user(who.id, actor_of(who), utcnow(), _attachment_storage(request))
    await _after_erasure(gateway, report.ticket_ids)
    return json_response(report)


def _attachment_storage(request: Request) -> Any:
    try:
        from support.help.attachments import storage
    except ImportError:
        return None
    return storage(request)


async def _after_erasure(gateway: Any, ticket_ids: list[str]) -> None:
    """Drop the bus's cached recent history of the erased tickets (so recovery reads the tombstones) and show
    agents the tombstoned tickets."""
    for ticket_id in ticket_ids:
        try:
            await gateway.bus.forget_recent(ticket_id)
            view = await gateway.store.get_ticket(ticket_id)
            if view is not None:
                await gateway.bus.publish_ticket(view)
        except Exception:  # the erasure itself is committed; a cache that outlives it expires by itself
            log.exception("after erasing, refreshing ticket %s failed", ticket_id)


routes = api_routes(
    (
        export_me,
        Operation(
            "GET",
            "/api/me/export",
            "Every ticket and message of the caller (no internal notes)",
            response=UserExport,
            tag="privacy",
        ),
    ),
    (
        export_user,
        Operation(
            "GET",
            "/api/admin/users/{id}/export",
            "Every ticket and message of a user",
            auth="admin",
            response=UserExport,
            tag="privacy",
        ),
    ),
    (
        erase_me,
        Operation(
            "POST",
            "/api/me/erase",
            "Erase the caller's own data (customers): bodies and names become tombstones",
            response=ErasureReport,
            tag="privacy",
            description="The same erasure as the admin call, on the caller; audited with the caller as actor.",
        ),
    ),
    (
        erase_user,
        Operation(
            "POST",
            "/api/admin/users/{id}/erase",
            "Erase a user's data: bodies and names become tombstones",
            auth="admin",
            response=ErasureReport,
            tag="privacy",
            description="Seqs stay gapless; the user's attachments are deleted; the erasure is audited.",
        ),
    ),
)
