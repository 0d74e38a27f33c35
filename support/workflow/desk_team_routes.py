"""HTTP API of the desk's saved views and macros (issue 20): the team's named records, shared by every agent.
Handlers decode, call support/workflow/desk.py `Desk` (or its store for a plain list or delete), encode.
"""

from __future__ import annotations

from typing import Annotated, Any, Awaitable, Callable, Literal, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from support.core.clock import iso
from support.core.errors import TicketError
from support.core.model import NO_NUL, TicketView
from support.web.http import endpoint, identify, json_response, read_body
from support.web.openapi import Operation, api_routes
from support.workflow.desk import Desk
from support.workflow.desk_ports import Macro, SavedView, ViewFilters
from support.workflow.desk_routes import AgentRef, Tags, TicketRef

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Template = Annotated[str, msgspec.Meta(min_length=1, max_length=32_000, pattern=NO_NUL)]
Status = Literal["open", "pending", "solved", "closed"]
Record = TypeVar("Record")


class NewView(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    filters: ViewFilters


class ViewPatch(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | None = None
    filters: ViewFilters | None = None


class ViewOut(msgspec.Struct):
    id: str
    name: str
    filters: ViewFilters
    created_by: str
    created_at: str
    updated_at: str


class NewMacro(msgspec.Struct, forbid_unknown_fields=False):
    title: Title
    body: Template | None = None
    status: Status | None = None
    add_tags: Tags = []
    remove_tags: Tags = []
    assignee: AgentRef | None = None  # an agent id, "me" or "none"


class MacroPatch(msgspec.Struct, forbid_unknown_fields=False):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    body: Template | None | msgspec.UnsetType = msgspec.UNSET
    status: Status | None | msgspec.UnsetType = msgspec.UNSET
    add_tags: Tags | msgspec.UnsetType = msgspec.UNSET
    remove_tags: Tags | msgspec.UnsetType = msgspec.UNSET
    assignee: AgentRef | None | msgspec.UnsetType = msgspec.UNSET


class MacroOut(msgspec.Struct):
    id: str
    title: str
    body: str | None
    status: str | None
    add_tags: list[str]
    remove_tags: list[str]
    assignee: str | None
    created_by: str
    created_at: str
    updated_at: str


class ApplyMacro(msgspec.Struct, forbid_unknown_fields=False):
    ticket: TicketRef
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]


def _view_out(v: SavedView) -> ViewOut:
    return ViewOut(v.id, v.name, v.filters, v.created_by, iso(v.created_at) or "", iso(v.updated_at) or "")


def _macro_out(m: Macro) -> MacroOut:
    return MacroOut(
        m.id,
        m.title,
        m.body,
        m.status,
        m.add_tags,
        m.remove_tags,
        m.assignee,
        m.created_by,
        iso(m.created_at) or "",
        iso(m.updated_at) or "",
    )


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _require_staff(request: Request) -> None:
    if not identify(request).is_staff:
        raise TicketError("forbidden", "for agents only")


def _lister(name: str, load: Callable[[Desk], Awaitable[list[Record]]], encode: Callable[[Record], Any]) -> Any:
    """GET of every record of one kind, for agents."""

    async def handler(request: Request) -> Response:
        _require_staff(request)
        return json_response([encode(r) for r in await load(_desk(request))])

    handler.__name__ = name
    return endpoint(handler)


def _deleter(name: str, remove: Callable[[Desk, str], Awaitable[bool]], missing: str) -> Any:
    """DELETE of one record by the path's id, for agents: 204, or 404 with `missing`."""

    async def handler(request: Request) -> Response:
        _require_staff(request)
        if not await remove(_desk(request), request.path_params["id"]):
            raise TicketError("not_found", missing)
        return Response(status_code=204)

    handler.__name__ = name
    return endpoint(handler)


list_views = _lister("list_views", lambda desk: desk.db.list_views(), _view_out)
delete_view = _deleter("delete_view", lambda desk, view_id: desk.db.delete_view(view_id), "no such view")
list_macros = _lister("list_macros", lambda desk: desk.db.list_macros(), _macro_out)
delete_macro = _deleter("delete_macro", lambda desk, macro_id: desk.db.delete_macro(macro_id), "no such macro")


@endpoint
async def create_view(request: Request) -> Response:
    body: NewView = await read_body(request, NewView)
    return json_response(_view_out(await _desk(request).add_view(identify(request), body.name, body.filters)), 201)


@endpoint
async def edit_view(request: Request) -> Response:
    body: ViewPatch = await read_body(request, ViewPatch)
    found = await _desk(request).edit_view(identify(request), request.path_params["id"], body.name, body.filters)
    return json_response(_view_out(found))


@endpoint
async def create_macro(request: Request) -> Response:
    body: NewMacro = await read_body(request, NewMacro)
    macro = await _desk(request).add_macro(identify(request), msgspec.structs.asdict(body))
    return json_response(_macro_out(macro), 201)


@endpoint
async def edit_macro(request: Request) -> Response:
    body: MacroPatch = await read_body(request, MacroPatch)
    fields = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    macro = await _desk(request).edit_macro(identify(request), request.path_params["id"], fields)
    return json_response(_macro_out(macro))


@endpoint
async def apply_macro(request: Request) -> Response:
    body: ApplyMacro = await read_body(request, ApplyMacro)
    view = await _desk(request).apply_macro(identify(request), request.path_params["id"], body.ticket, body.client_id)
    return json_response(view)


routes = api_routes(
    (
        list_views,
        Operation(
            "GET", "/api/views", "Saved views (shared by the team)", auth="staff", response=list[ViewOut], tag="desk"
        ),
    ),
    (
        create_view,
        Operation(
            "POST", "/api/views", "Save a view", auth="staff", request=NewView, response=ViewOut, status=201, tag="desk"
        ),
    ),
    (
        edit_view,
        Operation(
            "PATCH",
            "/api/views/{id}",
            "Rename or refilter a view",
            auth="staff",
            request=ViewPatch,
            response=ViewOut,
            tag="desk",
        ),
    ),
    (delete_view, Operation("DELETE", "/api/views/{id}", "Delete a view", auth="staff", status=204, tag="desk")),
    (list_macros, Operation("GET", "/api/macros", "Macros", auth="staff", response=list[MacroOut], tag="desk")),
    (
        create_macro,
        Operation(
            "POST",
            "/api/macros",
            "Create a macro",
            auth="staff",
            request=NewMacro,
            response=MacroOut,
            status=201,
            tag="desk",
        ),
    ),
    (
        edit_macro,
        Operation(
            "PATCH", "/api/macros/{id}", "Edit a macro", auth="staff", request=MacroPatch, response=MacroOut, tag="desk"
        ),
    ),
    (delete_macro, Operation("DELETE", "/api/macros/{id}", "Delete a macro", auth="staff", status=204, tag="desk")),
    (
        apply_macro,
        Operation(
            "POST",
            "/api/macros/{id}/apply",
            "Apply a macro to a ticket: its reply, then status, tags and assignee in one transaction",
            auth="staff",
            request=ApplyMacro,
            response=TicketView,
            tag="desk",
            description="The reply's client_id is derived from `client_id`: a retry posts nothing twice.",
        ),
    ),
)

__all__ = ["routes"]
