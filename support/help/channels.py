"""Support channels by plan (chat for all; phone line and callbacks for premium) and callback requests.

A callback is also a ticket (category "callback", the customer's plan gives it priority 1), so it reaches
the agents' queue and its live updates with no new channel; the callbacks list is its phone-side view.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response


from support.core import policy
from support.web.http import endpoint, identify, json_response, read_body
from support.core.clock import iso, utcnow
from support.core.model import NO_NUL
from support.web.openapi import Operation, Param, api_routes
from support.core.errors import TicketError
from support.help.ports import CallbackView, Callbacks

PREMIUM_CHANNELS = ("premium",)
PHONE = re.compile(r"^\+?[0-9 ().-]{6,32}$")
CALLBACK_ID = re.compile(r"^[0-9a-f]{8,64}$")


class CallbackRequest(msgspec.Struct, forbid_unknown_fields=False):
    # What valid_phone accepts, stated in the API: + first if at all, 6-20 digits, spaces ( ) - . between them.
    phone: Annotated[str, msgspec.Meta(min_length=6, max_length=32, pattern=r"^\+?[ ().-]*([0-9][ ().-]*){6,20}$")]
    preferred_time: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)] | None = None
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)] | None = None


class Channel(msgspec.Struct, omit_defaults=True):
    kind: str  # "chat" | "phone" | "callback"
    label: str
    number: str | None = None
    hours: str | None = None
    url: str | None = None
    note: str | None = None


class SupportOptions(msgspec.Struct):
    plan: str
    channels: list[Channel]


class CallbackList(msgspec.Struct):
    callbacks: list[CallbackView]


def channels_for(plan: str, number: str, hours: str) -> list[Channel]:
    """Pure: what each plan is offered. Everyone chats; premium also phones us or asks to be called back."""
    chat = Channel(
        "chat", "Chat with support", url="/api/tickets", note=policy.FREE_PLAN_NOTICE if plan == "free" else None
    )
    if plan not in PREMIUM_CHANNELS:
        return [chat]
    return [
        chat,
        Channel("phone", "Premium phone line", number=number, hours=hours),
        Channel("callback", "Request a callback", url="/api/callbacks", hours=hours),
    ]


def valid_phone(raw: str) -> str:
    phone = " ".join(raw.split())
    digits = sum(ch.isdigit() for ch in phone)
    if not PHONE.match(phone) or not 6 <= digits <= 20:
        raise TicketError("bad_request", "phone must be a phone number: digits, spaces, + ( ) - . only")
    return phone


def ticket_text(body: CallbackRequest, phone: str) -> str:
    lines = [f"Please call me back at {phone}.", f"Preferred time: {body.preferred_time or 'any time'}"]
    if body.note:
        lines.append(body.note)
    return "\n".join(lines)


@endpoint
async def support_options(request: Request) -> Response:
    who = identify(request)
    settings = request.app.state.gateway.settings
    plan = who.plan if who.role == "customer" else "free"
    return json_response(
        SupportOptions(plan, channels_for(plan, settings.support_phone_number, settings.support_phone_hours))
    )


@endpoint
async def request_callback(request: Request) -> Response:
    who = identify(request)
    if who.role != "customer" or who.plan not in PREMIUM_CHANNELS:
        raise TicketError("forbidden", "callbacks are part of the premium plan")
    body: CallbackRequest = await read_body(request, CallbackRequest)
    phone = valid_phone(body.phone)
    gateway = request.app.state.gateway
    store = callbacks(request)
    if body.client_id:
        existing = await store.by_client_id(who.id, body.client_id)
        if existing is not None:
            return json_response(existing, 200)
    callback_id = f"{int(time.time() * 1000):x}{secrets.token_hex(5)}"
    ticket, _created = await gateway.tickets.open_ticket(
        who,
        "Phone callback request",
        ticket_text(body, phone),
        "callback",
        None,
        {"callback": callback_id},
        f"callback:{body.client_id or callback_id}",
    )
    now = utcnow()
    callback = CallbackView(
        callback_id,
        ticket.id,
        {"id": who.id, "name": who.name},
        phone,
        body.preferred_time,
        body.note,
        "requested",
        iso(now) or "",
        None,
        None,
    )
    if not await store.add(callback, body.client_id, now):
        # A concurrent request with this client_id won; open_ticket already answered it with the same ticket.
        existing = await store.by_client_id(who.id, body.client_id) if body.client_id else None
        if existing is None:
            raise TicketError("conflict", "a concurrent request with this client_id is in progress")
        return json_response(existing, 200)
    return json_response(callback, 201)


def callbacks(request: Request) -> Callbacks:
    store: Callbacks = request.app.state.callbacks
    return store


@endpoint
async def list_callbacks(request: Request) -> Response:
    """Agents: the callbacks to make, oldest first (`?status=done|all` for the others); customers: their own."""
    who = identify(request)
    if who.is_staff:
        status = request.query_params.get("status", "requested")
        if status not in ("requested", "done", "all"):
            raise TicketError("bad_request", "status must be requested, done or all")
        rows = await callbacks(request).listing(None, None if status == "all" else status)
    else:
        rows = await callbacks(request).listing(who.id, None)
    return json_response(CallbackList(rows))


@endpoint
async def callback_done(request: Request) -> Response:
    """An agent made the call: the callback is done and its ticket solved (which reaches every queue)."""
    who = identify(request)
    if not who.is_staff:
        raise TicketError("forbidden", "only agents mark callbacks done")
    gateway = request.app.state.gateway
    if not CALLBACK_ID.match(request.path_params["id"]):
        raise TicketError("not_found", "no such callback")
    done = await callbacks(request).mark_done(request.path_params["id"], who.id, utcnow())
    if done is None:
        raise TicketError("not_found", "no such callback")
    callback, first_time = done
    if first_time:
        ticket = await gateway.store.get_ticket(callback.ticket)
        if ticket is not None and policy.can_transition(ticket.status, "solved"):
            await gateway.tickets.update(who, callback.ticket, "solved")
    return json_response(callback)


routes = api_routes(
    (
        support_options,
        Operation(
            "GET",
            "/api/support/options",
            "The support channels of the caller's plan",
            response=SupportOptions,
            tag="support",
            description="Chat for every plan; premium also the phone line and callbacks.",
        ),
    ),
    (
        request_callback,
        Operation(
            "POST",
            "/api/callbacks",
            "Ask to be phoned back (premium customers; others 403)",
            request=CallbackRequest,
            response=CallbackView,
            status=201,
            also=(200,),
            tag="support",
            description="Opens a ticket of category callback at priority 1 in the agents' queue.",
        ),
    ),
    (
        list_callbacks,
        Operation(
            "GET",
            "/api/callbacks",
            "Callbacks: agents the ones to make, customers their own",
            response=CallbackList,
            tag="support",
            query=(Param("status", Literal["requested", "done", "all"], "agents: which (default requested)"),),
        ),
    ),
    (
        callback_done,
        Operation(
            "POST",
            "/api/callbacks/{id}/done",
            "Mark a callback done; its ticket is solved (agents)",
            auth="staff",
            response=CallbackView,
            tag="support",
        ),
    ),
)
