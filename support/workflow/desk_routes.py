"""HTTP API of the agent's desk (issue 20): tags, search, bulk actions, report charts and CSV (the saved views and
macros are support/workflow/desk_team_routes.py). Handlers decode, call support/workflow/desk.py `Desk`, encode.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from support.core.errors import TicketError
from support.core.model import NO_NUL, TicketView
from support.web.http import endpoint, identify, int_param, json_response, read_body
from support.web.openapi import Operation, Param, api_routes
from support.workflow import report_series
from support.workflow.desk import BULK_MAX, Desk
from support.workflow.desk_ports import PlanFilter, StatusFilter, Tag, ViewFilters
from support.workflow.routes import REPORT_DAYS_MAX

CURSOR_PATTERN = "^[0-9]{1,16}~[^\x00]{1,64}$"
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
AgentRef = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]
TicketRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
SEARCH_PAGE_MAX = 100


class TagChange(msgspec.Struct, forbid_unknown_fields=False):
    add: Tags = []
    remove: Tags = []


class TagCount(msgspec.Struct):
    tag: str
    count: int


class Hit(msgspec.Struct):
    ticket: TicketView
    snippet: str | None


class SearchPage(msgspec.Struct):
    results: list[Hit]
    next: str | None


class BulkBody(msgspec.Struct, forbid_unknown_fields=False):
    tickets: Annotated[list[TicketRef], msgspec.Meta(min_length=1, max_length=BULK_MAX)]
    action: Literal["assign", "tag", "untag", "solve", "review"]
    assignee: AgentRef | None = None  # assign: an agent id, "me", or null to unassign
    tags: Tags = []


class BulkItem(msgspec.Struct, omit_defaults=True):
    ticket: str
    ok: bool
    error: str | None = None
    message: str | None = None


class BulkOut(msgspec.Struct):
    results: list[BulkItem]


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@endpoint
async def change_tags(request: Request) -> Response:
    body: TagChange = await read_body(request, TagChange)
    view = await _desk(request).tag(identify(request), request.path_params["id"], body.add, body.remove)
    return json_response(view)


@endpoint
async def list_tags(request: Request) -> Response:
    active = request.query_params.get("scope", "active") == "active"
    counts = await _desk(request).tag_counts(identify(request), active)
    return json_response([TagCount(t, n) for t, n in counts])


_FILTER_NAMES = ("q", "status", "plan", "assignee", "tag", "breached", "since", "until")


def _filters_from_query(request: Request) -> ViewFilters:
    """The declared parameters were checked against their types before the handler runs (support/web/openapi.py)."""
    given = {name: request.query_params[name] for name in _FILTER_NAMES if request.query_params.get(name)}
    try:
        return msgspec.convert(given, ViewFilters, strict=False)
    except msgspec.ValidationError as exc:
        raise TicketError("bad_request", str(exc)) from None


@endpoint
async def search(request: Request) -> Response:
    who = identify(request)
    limit = int_param(request, "limit", 25, 1, SEARCH_PAGE_MAX)
    hits, more = await _desk(request).search(
        who, _filters_from_query(request), request.query_params.get("cursor") or None, limit
    )
    return json_response(SearchPage([Hit(h.ticket, h.snippet) for h in hits], more))


@endpoint
async def bulk(request: Request) -> Response:
    body: BulkBody = await read_body(request, BulkBody)
    results = await _desk(request).bulk(identify(request), body.tickets, body.action, body.assignee, body.tags)
    return json_response(BulkOut([BulkItem(r.ticket, r.ok, r.error, r.message) for r in results]))


@endpoint
async def charts(request: Request) -> Response:
    days = int_param(request, "days", 30, 1, REPORT_DAYS_MAX)
    return json_response(await _desk(request).charts(identify(request), days))


@endpoint
async def export_csv(request: Request) -> Response:
    days = int_param(request, "days", 30, 1, REPORT_DAYS_MAX)
    kind = request.query_params.get("kind", "series")
    found = await _desk(request).charts(identify(request), days)
    rows = report_series.tag_csv_rows(found) if kind == "tags" else report_series.csv_rows(found)
    name = f"helpline-report-{kind}-{days}d.csv"
    return Response(
        report_series.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


_DAYS = Annotated[int, msgspec.Meta(ge=1, le=REPORT_DAYS_MAX)]
_SEARCH_QUERY = (
    Param("q", Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)], "words in the subject or the thread"),
    Param("status", StatusFilter, "all (default), active or one status"),
    Param("plan", PlanFilter, "agents: only this plan"),
    Param(
        "assignee",
        Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)],
        "agents: an agent id, me, or none",
    ),
    Param("tag", Tag, "agents: only tickets with this tag"),
    Param("breached", bool, "agents: first-response target breached (true) or not (false)"),
    Param("since", date, "opened on or after this day (UTC)"),
    Param("until", date, "opened on or before this day (UTC)"),
    Param(
        "cursor", Annotated[str, msgspec.Meta(max_length=200, pattern=CURSOR_PATTERN)], "`next` of the previous page"
    ),
    Param("limit", Annotated[int, msgspec.Meta(ge=1, le=SEARCH_PAGE_MAX)], "page size (default 25)"),
)
routes = api_routes(
    (
        change_tags,
        Operation(
            "POST",
            "/api/tickets/{id}/tags",
            "Add and remove a ticket's tags (agents); every agent's queue shows the change live",
            auth="staff",
            request=TagChange,
            response=TicketView,
            tag="desk",
            description="Tags are normalised (trimmed, lowercase); 1-40 letters, digits, '-' or '_'; at most 20.",
        ),
    ),
    (
        list_tags,
        Operation(
            "GET",
            "/api/tags",
            "Tags in use and how many tickets carry each",
            auth="staff",
            response=list[TagCount],
            tag="desk",
            query=(Param("scope", Literal["active", "all"], "active tickets (default) or all"),),
        ),
    ),
    (
        search,
        Operation(
            "GET",
            "/api/search",
            "Full-text search over tickets and their threads, with filters, newest first, paged by cursor",
            response=SearchPage,
            tag="desk",
            query=_SEARCH_QUERY,
            description="Agents search every ticket, internal notes included; a customer searches their own "
            "tickets and never finds one by an internal note.",
        ),
    ),
    (
        bulk,
        Operation(
            "POST",
            "/api/tickets/bulk",
            "One action on up to 100 tickets: assign, tag, untag, solve, review",
            auth="staff",
            request=BulkBody,
            response=BulkOut,
            tag="desk",
            description="Each ticket succeeds or fails on its own; each result says which.",
        ),
    ),
    (
        charts,
        Operation(
            "GET",
            "/api/reports/charts",
            "Report series per plan over time (response times, targets met, CSAT) and volume by tag",
            auth="staff",
            response=report_series.Charts,
            tag="workflow",
            query=(Param("days", _DAYS, "the period (default 30)"),),
        ),
    ),
    (
        export_csv,
        Operation(
            "GET",
            "/api/reports/export.csv",
            "The report series (or the volume by tag) as CSV",
            auth="staff",
            media_type="text/csv",
            tag="workflow",
            query=(Param("days", _DAYS, "the period (default 30)"), Param("kind", Literal["series", "tags"], "which")),
        ),
    ),
)

__all__ = ["routes"]
