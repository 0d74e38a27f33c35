"""HTTP API of the agents' workflow: expected reply time, signals, agents' away flags, canned replies, CSAT,
reports, and the reports page. Handlers decode, call realtime/workflow.py, encode; nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response


from support.web.http import endpoint, identify, int_param, json_response, read_body
from support.core.tokens import PLANS, Identity
from support.core.clock import iso, utcnow
from support.web.openapi import Operation, Param, api_routes
from support.core.model import NO_NUL
from support.workflow.ports import CannedReply, CsatRating
from support.workflow.reports import Report
from support.workflow.signals import Signal
from support.workflow.targets import Expected
from support.core.errors import TicketError
from support.workflow.service import Workflow

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Template = Annotated[str, msgspec.Meta(min_length=1, max_length=32_000, pattern=NO_NUL)]
REPORT_DAYS_MAX = 365


CAPACITY_MAX = 1000


class AwayBody(msgspec.Struct, forbid_unknown_fields=False):
    """Either, both or neither (then the answer is the status as it is): `away`, and `capacity` (the most active
    tickets auto-assignment gives you; null: no limit)."""

    away: bool | None = None
    capacity: Annotated[int, msgspec.Meta(ge=0, le=CAPACITY_MAX)] | None | msgspec.UnsetType = msgspec.UNSET


class AgentView(msgspec.Struct):
    id: str
    name: str
    online: bool
    away: bool
    capacity: int | None = None
    open_assigned: int = 0


class NewCanned(msgspec.Struct, forbid_unknown_fields=False):
    title: Title
    body: Template


class CannedPatch(msgspec.Struct, forbid_unknown_fields=False):
    title: Title | None = None
    body: Template | None = None


class CannedView(msgspec.Struct):
    id: str
    title: str
    body: str
    created_by: str
    created_at: str
    updated_at: str


class RenderBody(msgspec.Struct, forbid_unknown_fields=False):
    ticket: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    article: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] | None = None


class Rendered(msgspec.Struct):
    body: str


class CsatBody(msgspec.Struct, forbid_unknown_fields=False):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] | None = None


class CsatView(msgspec.Struct):
    ticket: str
    score: int
    comment: str | None
    created_at: str


def _workflow(request: Request) -> Workflow:
    workflow: Workflow = request.app.state.gateway.workflow
    return workflow


def _canned_view(row: CannedReply) -> CannedView:
    return CannedView(row.id, row.title, row.body, row.created_by, iso(row.created_at) or "", iso(row.updated_at) or "")


def _csat_view(row: CsatRating) -> CsatView:
    return CsatView(row.ticket_id, row.score, row.comment, iso(row.created_at) or "")


def _require_staff(request: Request) -> Identity:
    who = identify(request)
    if not who.is_staff:
        raise TicketError("forbidden", "for agents only")
    return who


@endpoint
async def expected(request: Request) -> Response:
    """The expected reply time for the caller's plan (agents may ask for any plan with ?plan=)."""
    who = identify(request)
    plan = who.plan
    if who.is_staff:
        plan = request.query_params.get("plan") or "pro"
        if plan not in PLANS:
            raise TicketError("bad_request", f"plan must be one of {', '.join(PLANS)}")
    return json_response(await _workflow(request).expected(plan))


@endpoint
async def list_signals(request: Request) -> Response:
    _require_staff(request)
    min_count = int_param(request, "min", 2, 1, 1000)
    return json_response(await _workflow(request).signals(min_count))


@endpoint
async def review_signal(request: Request) -> Response:
    who = _require_staff(request)
    return json_response(await _workflow(request).review_signal(who, request.path_params["id"]))


@endpoint
async def list_agents(request: Request) -> Response:
    _require_staff(request)
    return json_response([AgentView(**a) for a in await _workflow(request).agents()])  # type: ignore[arg-type]


@endpoint
async def set_me(request: Request) -> Response:
    who = _require_staff(request)
    body: AwayBody = await read_body(request, AwayBody)
    me = await _workflow(request).set_status(who, body.away, body.capacity)
    return json_response(AgentView(**me))  # type: ignore[arg-type]


@endpoint
async def list_canned(request: Request) -> Response:
    _require_staff(request)
    return json_response([_canned_view(r) for r in await request.app.state.gateway.workflow.db.list_canned()])


@endpoint
async def create_canned(request: Request) -> Response:
    who = _require_staff(request)
    body: NewCanned = await read_body(request, NewCanned)
    return json_response(_canned_view(await _workflow(request).add_canned(who, body.title, body.body)), 201)


@endpoint
async def edit_canned(request: Request) -> Response:
    _require_staff(request)
    body: CannedPatch = await read_body(request, CannedPatch)
    row = await request.app.state.gateway.workflow.db.edit_canned(
        request.path_params["id"], body.title, body.body, utcnow()
    )
    if row is None:
        raise TicketError("not_found", "no such canned reply")
    return json_response(_canned_view(row))


@endpoint
async def delete_canned(request: Request) -> Response:
    _require_staff(request)
    if not await request.app.state.gateway.workflow.db.delete_canned(request.path_params["id"]):
        raise TicketError("not_found", "no such canned reply")
    return Response(status_code=204)


@endpoint
async def render_canned(request: Request) -> Response:
    who = identify(request)
    body: RenderBody = await read_body(request, RenderBody)
    text = await _workflow(request).render(who, request.path_params["id"], body.ticket, body.article)
    return json_response(Rendered(text))


@endpoint
async def rate_ticket(request: Request) -> Response:
    who = identify(request)
    body: CsatBody = await read_body(request, CsatBody)
    rating = await _workflow(request).rate(who, request.path_params["id"], body.score, body.comment)
    return json_response(_csat_view(rating), 201)


@endpoint
async def get_rating(request: Request) -> Response:
    who = identify(request)
    rating = await _workflow(request).rating(who, request.path_params["id"])
    if rating is None:
        raise TicketError("not_found", "not rated yet")
    return json_response(_csat_view(rating))


@endpoint
async def get_report(request: Request) -> Response:
    who = identify(request)
    days = int_param(request, "days", 30, 1, REPORT_DAYS_MAX)
    return json_response(await _workflow(request).report(who, days))


_DAYS = Annotated[int, msgspec.Meta(ge=1, le=REPORT_DAYS_MAX)]
routes = api_routes(
    (
        expected,
        Operation(
            "GET",
            "/api/support/expected",
            "The expected reply time for the caller's plan, from the live queue",
            response=Expected,
            tag="workflow",
            query=(
                Param(
                    "plan",
                    Literal["free", "pro", "pro_plus", "premium"],
                    "agents only: ask for this plan (default pro)",
                ),
            ),
            description="Free plans get `notice` (every report is read and acted on; a reply only where one is needed) instead of a time.",
        ),
    ),
    (
        list_signals,
        Operation(
            "GET",
            "/api/signals",
            "Similar free reports grouped into signals, the biggest first",
            auth="staff",
            response=list[Signal],
            tag="workflow",
            query=(Param("min", Annotated[int, msgspec.Meta(ge=1, le=1000)], "smallest count listed (2)"),),
        ),
    ),
    (
        review_signal,
        Operation(
            "POST",
            "/api/signals/{id}/review",
            "Mark every report of a signal received and reviewed",
            auth="staff",
            response=Signal,
            tag="workflow",
        ),
    ),
    (
        list_agents,
        Operation(
            "GET",
            "/api/agents",
            "Agents online (watching the queue): away flags, capacities and active assigned tickets",
            auth="staff",
            response=list[AgentView],
            tag="workflow",
        ),
    ),
    (
        set_me,
        Operation(
            "PUT",
            "/api/agents/me",
            "Set the caller's away flag and/or capacity (auto-assignment skips away agents and full ones)",
            auth="staff",
            request=AwayBody,
            response=AgentView,
            tag="workflow",
        ),
    ),
    (
        set_me,
        Operation(
            "PATCH", "/api/agents/me", "Same as PUT", auth="staff", request=AwayBody, response=AgentView, tag="workflow"
        ),
    ),
    (
        list_canned,
        Operation("GET", "/api/canned", "Canned replies", auth="staff", response=list[CannedView], tag="workflow"),
    ),
    (
        create_canned,
        Operation(
            "POST",
            "/api/canned",
            "Create a canned reply",
            auth="staff",
            request=NewCanned,
            response=CannedView,
            status=201,
            tag="workflow",
        ),
    ),
    (
        edit_canned,
        Operation(
            "PATCH",
            "/api/canned/{id}",
            "Edit a canned reply",
            auth="staff",
            request=CannedPatch,
            response=CannedView,
            tag="workflow",
        ),
    ),
    (
        edit_canned,
        Operation(
            "PUT",
            "/api/canned/{id}",
            "Same as PATCH",
            auth="staff",
            request=CannedPatch,
            response=CannedView,
            tag="workflow",
        ),
    ),
    (
        delete_canned,
        Operation("DELETE", "/api/canned/{id}", "Delete a canned reply", auth="staff", status=204, tag="workflow"),
    ),
    (
        render_canned,
        Operation(
            "POST",
            "/api/canned/{id}/render",
            "A canned reply with its placeholders filled for a ticket",
            auth="staff",
            request=RenderBody,
            response=Rendered,
            tag="workflow",
            description="{{customer.name}}, {{customer.id}}, {{ticket.id}}, {{ticket.subject}}, {{ticket.plan}}, "
            "{{agent.name}}; `article` appends the link /help/<slug>.",
        ),
    ),
    (
        rate_ticket,
        Operation(
            "POST",
            "/api/tickets/{id}/csat",
            "Rate a solved ticket 1-5, once (its customer only)",
            request=CsatBody,
            response=CsatView,
            status=201,
            tag="workflow",
            description="409 before the ticket is solved and when it was already rated.",
        ),
    ),
    (
        get_rating,
        Operation(
            "GET",
            "/api/tickets/{id}/csat",
            "The ticket's rating (404 while unrated)",
            response=CsatView,
            tag="workflow",
        ),
    ),
    (
        get_report,
        Operation(
            "GET",
            "/api/reports",
            "Response times, breaches, volume and CSAT per plan",
            auth="staff",
            response=Report,
            tag="workflow",
            query=(Param("days", _DAYS, "the period (default 30)"),),
        ),
    ),
)

__all__ = ["routes"]
