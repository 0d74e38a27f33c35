"""The HTTP API of contract §3: tickets, their messages, status changes; JSON in and out via msgspec."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from persistence.incident_links import incidents_of
from realtime import rules
from realtime.auth import Identity, TokenError, bearer_token
from realtime.openapi import Operation, Param
from realtime.protocol import NO_NUL, Message, TicketView
from realtime.rate_budgets import WRITE_METHODS
from realtime.tickets import TicketError

MAX_BODY_BYTES = 64 * 1024
PAGE_MAX = 100

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=32_000, pattern=NO_NUL)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class NewTicketBody(msgspec.Struct, forbid_unknown_fields=False):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
    body: Text
    category: str = "question"
    page_url: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] | None = None
    context: dict[str, Any] | None = None
    client_id: ClientId | None = None


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


class ErrorBody(msgspec.Struct):
    code: str
    message: str


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


_encoder = msgspec.json.Encoder()


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(value), status_code=status, media_type="application/json")


def error_response(code: str, message: str, status: int | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    status = status or TicketError.STATUS.get(code, 400)
    response = json_response(ErrorEnvelope(ErrorBody(code, message)), status)
    response.headers.update(headers or {})
    return response


async def authenticate(request: Request) -> None:
    """Check the bearer token, when one was sent, before the handler runs: the verifier may have to fetch the
    identity provider's keys (I/O), and identify() is called from plain functions all over the API."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        try:
            request.state.identity = await request.app.state.gateway.verifier.verify(token)
        except TokenError as refused:
            request.state.identity = refused


def identify(request: Request) -> Identity:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise TicketError("unauthorized", "send Authorization: Bearer <token>")
    who = getattr(request.state, "identity", None)
    if who is None:
        raise RuntimeError("identify() is for handlers wrapped by @endpoint, which checks the token first")
    if isinstance(who, TokenError):
        raise TicketError("unauthorized", "token refused")
    return who


def client_address(request: Request) -> str:
    """The peer's address; behind a trusted proxy, uvicorn has already put the forwarded one here."""
    return request.client.host if request.client else "unknown"


async def write_budget(request: Request) -> Response | None:
    """Spend one write from the caller's budget: 429 with Retry-After when it is empty, else None.

    A valid token spends the user's budget; no token, or one that is refused, spends the client address's, so
    neither anonymous writes nor a stream of bad tokens go unlimited."""
    if request.method not in WRITE_METHODS:
        return None
    who: Identity | None = None
    if request.headers.get("authorization"):
        try:
            who = identify(request)
        except TicketError:
            pass  # the handler refuses it with 401, once the address's budget allows an answer at all
    verdict = await request.app.state.gateway.budgets.take_write(who.id if who else None, client_address(request))
    if verdict.allowed:
        return None
    return error_response("rate_limited", "too many requests; slow down",
                          headers={"Retry-After": verdict.retry_after_header})


async def read_body(request: Request, kind: type[Any]) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TicketError("too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise TicketError("too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    try:
        return msgspec.json.decode(raw, type=kind)
    except RecursionError:
        raise TicketError("bad_request", "JSON is nested too deeply") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise TicketError("bad_request", str(exc)) from None


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TicketError("bad_request", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise TicketError("bad_request", f"{name} must be between {low} and {high}")
    return value


def endpoint(handler: Any) -> Any:
    """Every HTTP API handler: writes spend from a rate budget first; TicketErrors become the contract's errors."""
    async def wrapped(request: Request) -> Response:
        try:
            await authenticate(request)
            refused = await write_budget(request)
            if refused is not None:
                return refused
            return await handler(request)
        except TicketError as exc:
            return error_response(exc.code, exc.message, exc.http_status)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    wrapped.__module__ = handler.__module__  # realtime/openapi.py finds a route's openapi_ops by its module
    wrapped.__wrapped__ = handler  # type: ignore[attr-defined]
    return wrapped


@endpoint
async def create_ticket(request: Request) -> Response:
    who = identify(request)
    body: NewTicketBody = await read_body(request, NewTicketBody)
    if body.category not in rules.CATEGORIES:
        raise TicketError("bad_request", f"category must be one of {', '.join(rules.CATEGORIES)}")
    if body.context is not None:
        encoded = _encoder.encode(body.context)
        if len(encoded) > 8192:
            raise TicketError("too_large", "context is limited to 8 KiB")
        if b"\\u0000" in encoded:
            raise TicketError("bad_request", "context must not contain NUL characters")
    view, created = await request.app.state.gateway.tickets.open_ticket(
        who, body.subject, body.body, body.category, body.page_url, body.context, body.client_id)
    return json_response(view, 201 if created else 200)


@endpoint
async def list_tickets(request: Request) -> Response:
    who = identify(request)
    store = request.app.state.gateway.store
    offset = int_param(request, "cursor", 0, 0, 10**9)
    limit = int_param(request, "limit", 50, 1, PAGE_MAX)
    if who.is_staff:
        status = request.query_params.get("status", "active")
        statuses = rules.ACTIVE_STATUSES if status == "active" else rules.STATUSES if status == "all" else (status,)
        if any(s not in rules.STATUSES for s in statuses):
            raise TicketError("bad_request", "status must be active, all or a ticket status")
        plan = request.query_params.get("plan") or None
        if plan is not None and plan not in rules.PRIORITY_BY_PLAN:
            raise TicketError("bad_request", "unknown plan")
        assignee = who.id if request.query_params.get("assignee") == "me" else None
        tickets = await store.list_queue(who.id, offset, limit + 1, statuses, plan, assignee)
    else:
        tickets = await store.list_customer_tickets(who.id, offset, limit + 1)
    more = len(tickets) > limit
    tickets = tickets[:limit]
    linked = await incidents_of(store, [t.id for t in tickets])
    for ticket in tickets:
        ticket.incident = linked.get(ticket.id)
    return json_response(TicketList(tickets, str(offset + limit) if more else None))


@endpoint
async def get_ticket(request: Request) -> Response:
    who = identify(request)
    after_seq = int_param(request, "after_seq", 0, 0, 2**53)
    limit = int_param(request, "limit", 100, 1, 10**6)
    view, messages, has_more = await request.app.state.gateway.tickets.history(
        who, request.path_params["id"], after_seq, limit)
    return json_response(TicketThread(view, messages, has_more))


@endpoint
async def post_message(request: Request) -> Response:
    who = identify(request)
    body: NewMessageBody = await read_body(request, NewMessageBody)
    result = await request.app.state.gateway.tickets.post(
        who, request.path_params["id"], body.client_id, body.body, body.internal)
    return json_response(result.message, 200 if result.duplicate else 201)


@endpoint
async def patch_ticket(request: Request) -> Response:
    who = identify(request)
    body: TicketPatch = await read_body(request, TicketPatch)
    from persistence.store import UNSET
    assignee = UNSET if body.assignee is msgspec.UNSET else body.assignee
    if body.reviewed is not None:  # first, so the view the update returns and publishes carries the mark
        await request.app.state.gateway.workflow.set_reviewed(who, request.path_params["id"], body.reviewed)
    view = await request.app.state.gateway.tickets.update(who, request.path_params["id"], body.status, assignee)
    return json_response(view)


routes = [
    Route("/api/tickets", create_ticket, methods=["POST"]),
    Route("/api/tickets", list_tickets, methods=["GET"]),
    Route("/api/tickets/{id}", get_ticket, methods=["GET"]),
    Route("/api/tickets/{id}", patch_ticket, methods=["PATCH"]),
    Route("/api/tickets/{id}/messages", post_message, methods=["POST"]),
]

_STATUS = Literal["active", "all", "open", "pending", "solved", "closed"]
_PLAN = Literal["free", "pro", "pro_plus", "premium"]
openapi_ops = [
    Operation("POST", "/api/tickets", "Open a ticket (customers)", request=NewTicketBody, response=TicketView,
              status=201, also=(200,), tag="tickets",
              description="The body becomes message seq 1; the same customer's client_id again returns the same "
                          "ticket (200)."),
    Operation("GET", "/api/tickets", "Your tickets (customers) or the queue (agents)", response=TicketList,
              tag="tickets", query=(
                  Param("cursor", Annotated[int, msgspec.Meta(ge=0)], "`next` of the previous page"),
                  Param("limit", Annotated[int, msgspec.Meta(ge=1, le=PAGE_MAX)], "page size (default 50)"),
                  Param("status", _STATUS, "agents: active (default), all, or one status"),
                  Param("plan", _PLAN, "agents: only this plan"),
                  Param("assignee", Literal["me"], "agents: only tickets assigned to the caller"))),
    Operation("GET", "/api/tickets/{id}", "A ticket and its messages in seq order (owner or agent)",
              response=TicketThread, tag="tickets", query=(
                  Param("after_seq", Annotated[int, msgspec.Meta(ge=0, le=2**53)], "messages after this seq"),
                  Param("limit", Annotated[int, msgspec.Meta(ge=1)], "page size (the server caps it)"))),
    Operation("PATCH", "/api/tickets/{id}", "Change a ticket's status or assignee (agents)", auth="staff",
              request=TicketPatch, response=TicketView, tag="tickets"),
    Operation("POST", "/api/tickets/{id}/messages", "Post a message (HTTP fallback of the `send` frame)",
              request=NewMessageBody, response=Message, status=201, also=(200,), tag="tickets",
              description="The same author's client_id again answers 200 with that author's first message; "
                          "a client_id another author used is no repeat (201, a new message)."),
]
