"""The HTTP API of contract §3: tickets, their messages, status changes; JSON in and out via msgspec."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response


from support.core import policy
from support.core import tags
from support.web.openapi import Operation, Param, api_routes
from support.core.model import NO_NUL, Message, TicketView
from support.core.errors import TicketError
from support.core.stores import UNSET
from support.web.http import endpoint, identify, int_param, json_response, read_body

PAGE_MAX = 100

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=32_000, pattern=NO_NUL)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class NewTicketBody(msgspec.Struct, forbid_unknown_fields=False):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
    body: Text
    category: policy.Category = "question"
    page_url: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] | None = None
    context: dict[str, Any] | None = None
    client_id: ClientId | None = None
    follow_up_of: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)] | None = None


class NewMessageBody(msgspec.Struct, forbid_unknown_fields=False):
    body: Text
    client_id: ClientId
    internal: bool = False


class TicketPatch(msgspec.Struct, forbid_unknown_fields=False):
    status: str | None = None
    assignee: Annotated[str, msgspec.Meta(max_length=128, pattern=NO_NUL)] | None | msgspec.UnsetType = msgspec.UNSET
    reviewed: bool | None = None  # a free report triaged without a reply (realtime/workflow.py)


class TicketList(msgspec.Struct):
    tickets: list[TicketView]
    next: str | None


class TicketThread(msgspec.Struct):
    ticket: TicketView
    messages: list[Message]
    has_more: bool


_encoder = msgspec.json.Encoder()

MAX_CURSOR = 10**9  # the page cursor is an offset; bounded, and the bound is in the OpenAPI document


@endpoint
async def create_ticket(request: Request) -> Response:
    who = identify(request)
    body: NewTicketBody = await read_body(request, NewTicketBody)
    if body.category not in policy.CATEGORIES:
        raise TicketError("bad_request", f"category must be one of {', '.join(policy.CATEGORIES)}")
    if body.context is not None:
        encoded = _encoder.encode(body.context)
        if len(encoded) > 8192:
            raise TicketError("too_large", "context is limited to 8 KiB")
        if b"\\u0000" in encoded:
            raise TicketError("bad_request", "context must not contain NUL characters")
    view, created = await request.app.state.gateway.tickets.open_ticket(
        who, body.subject, body.body, body.category, body.page_url, body.context, body.client_id, body.follow_up_of
    )
    return json_response(view, 201 if created else 200)


@endpoint
async def list_tickets(request: Request) -> Response:
    who = identify(request)
    store = request.app.state.gateway.store
    offset = int_param(request, "cursor", 0, 0, MAX_CURSOR)
    limit = int_param(request, "limit", 50, 1, PAGE_MAX)
    if who.is_staff:
        status = request.query_params.get("status", "active")
        statuses = policy.ACTIVE_STATUSES if status == "active" else policy.STATUSES if status == "all" else (status,)
        if any(s not in policy.STATUSES for s in statuses):
            raise TicketError("bad_request", "status must be active, all or a ticket status")
        plan = request.query_params.get("plan") or None
        if plan is not None and plan not in policy.PRIORITY_BY_PLAN:
            raise TicketError("bad_request", "unknown plan")
        assignee = who.id if request.query_params.get("assignee") == "me" else None
        tag = request.query_params.get("tag") or None
        tag = None if tag is None else tags.normalised(tag)
        tickets = await store.list_queue(who.id, offset, limit + 1, statuses, plan, assignee, tag)
    else:
        tickets = await store.list_customer_tickets(who.id, offset, limit + 1)
    more = len(tickets) > limit
    tickets = tickets[:limit]
    linked = await store.incidents_of([t.id for t in tickets])
    for ticket in tickets:
        ticket.incident = linked.get(ticket.id)
    return json_response(TicketList(tickets, str(offset + limit) if more else None))


@endpoint
async def get_ticket(request: Request) -> Response:
    who = identify(request)
    after_seq = int_param(request, "after_seq", 0, 0, 2**53)
    limit = int_param(request, "limit", 100, 1, 10**6)
    view, messages, has_more = await request.app.state.gateway.tickets.history(
        who, request.path_params["id"], after_seq, limit
    )
    return json_response(TicketThread(view, messages, has_more))


@endpoint
async def post_message(request: Request) -> Response:
    who = identify(request)
    body: NewMessageBody = await read_body(request, NewMessageBody)
    result = await request.app.state.gateway.tickets.post(
        who, request.path_params["id"], body.client_id, body.body, body.internal
    )
    return json_response(result.message, 200 if result.duplicate else 201)


@endpoint
async def patch_ticket(request: Request) -> Response:
    who = identify(request)
    body: TicketPatch = await read_body(request, TicketPatch)
    assignee = UNSET if body.assignee is msgspec.UNSET else body.assignee
    if body.reviewed is not None:  # first, so the view the update returns and publishes carries the mark
        await request.app.state.gateway.workflow.set_reviewed(who, request.path_params["id"], body.reviewed)
    view = await request.app.state.gateway.tickets.update(who, request.path_params["id"], body.status, assignee)
    return json_response(view)


_STATUS = Literal["active", "all", "open", "pending", "solved", "closed"]
_PLAN = Literal["free", "pro", "pro_plus", "premium"]
routes = api_routes(
    (
        create_ticket,
        Operation(
            "POST",
            "/api/tickets",
            "Open a ticket (customers)",
            request=NewTicketBody,
            response=TicketView,
            status=201,
            also=(200,),
            tag="tickets",
            description="The body becomes message seq 1; the same customer's client_id again returns the same "
            "ticket (200).",
        ),
    ),
    (
        list_tickets,
        Operation(
            "GET",
            "/api/tickets",
            "Your tickets (customers) or the queue (agents)",
            response=TicketList,
            tag="tickets",
            query=(
                Param("cursor", Annotated[int, msgspec.Meta(ge=0, le=MAX_CURSOR)], "`next` of the previous page"),
                Param("limit", Annotated[int, msgspec.Meta(ge=1, le=PAGE_MAX)], "page size (default 50)"),
                Param("status", _STATUS, "agents: active (default), all, or one status"),
                Param("plan", _PLAN, "agents: only this plan"),
                Param("assignee", Literal["me"], "agents: only tickets assigned to the caller"),
                Param(
                    "tag",
                    Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=tags.PATTERN)],
                    "agents: only tickets with this tag",
                ),
            ),
        ),
    ),
    (
        get_ticket,
        Operation(
            "GET",
            "/api/tickets/{id}",
            "A ticket and its messages in seq order (owner or agent)",
            response=TicketThread,
            tag="tickets",
            query=(
                Param("after_seq", Annotated[int, msgspec.Meta(ge=0, le=2**53)], "messages after this seq"),
                Param("limit", Annotated[int, msgspec.Meta(ge=1, le=10**6)], "page size (the server caps it)"),
            ),
        ),
    ),
    (
        patch_ticket,
        Operation(
            "PATCH",
            "/api/tickets/{id}",
            "Change a ticket's status or assignee (agents)",
            auth="staff",
            request=TicketPatch,
            response=TicketView,
            tag="tickets",
        ),
    ),
    (
        post_message,
        Operation(
            "POST",
            "/api/tickets/{id}/messages",
            "Post a message (HTTP fallback of the `send` frame)",
            request=NewMessageBody,
            response=Message,
            status=201,
            also=(200,),
            tag="tickets",
            description="The same author's client_id again answers 200 with that author's first message; "
            "a client_id another author used is no repeat (201, a new message).",
        ),
    ),
)
