"""Admin HTTP API of the integrations: webhook endpoints and their delivery logs, the audit log, a user's data
(export, erasure: privacy.py). Admin-only calls refuse everyone else with 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Sequence

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import Response


from support.web.http import endpoint, identify, int_param, json_response, read_body
from support.core.tokens import Identity
from support.core.model import NO_NUL
from support.web.openapi import Operation, Param, api_routes
from support.core.errors import TicketError
from support.integrations.events import EVENT_TYPES, actor_of
from support.integrations.ports import (
    AuditEntries,
    AuditRecord,
    DeliveryView,
    EndpointView,
    WebhookEndpoints,
)

PAGE_MAX = 200

EventType = Literal["ticket.created", "ticket.updated", "message.created", "incident.linked"]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
# What _checked_url accepts, stated in the API: http(s), a host name or an IPv4 address, a port, visible ASCII.
_IPV4_PART = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_HOST = rf"({_IPV4_PART}(\.{_IPV4_PART}){{3}}|([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*)"
WebhookUrl = Annotated[
    str, msgspec.Meta(min_length=10, max_length=2000, pattern=rf"^https?://{_HOST}(:[0-9]{{1,5}})?([/?#][!-~]*)?$")
]
EventTypes = Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=len(EVENT_TYPES))]
Description = Annotated[str, msgspec.Meta(max_length=300, pattern=NO_NUL)]
Filter = Annotated[str, msgspec.Meta(max_length=128, pattern=NO_NUL)]
Secret = Annotated[str, msgspec.Meta(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")]
DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]


class NewWebhook(msgspec.Struct, forbid_unknown_fields=True):
    url: WebhookUrl
    events: EventTypes
    include_internal: bool = False  # internal notes are sent only to endpoints that ask for them
    description: Description = ""
    secret: Secret | None = None  # generated when not given; returned once


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: WebhookUrl | msgspec.UnsetType = msgspec.UNSET
    events: EventTypes | msgspec.UnsetType = msgspec.UNSET
    include_internal: bool | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET  # true also re-enables an endpoint marked failing
    rotate_secret: bool = False
    secret: Secret | msgspec.UnsetType = msgspec.UNSET  # with rotate_secret: the new secret (else generated)


# What patch_webhook refuses, stated in the document: a new secret comes only with rotate_secret: true.
WebhookPatchStated = Annotated[
    WebhookPatch,
    msgspec.Meta(
        extra_json_schema={
            "if": {"required": ["secret"]},
            "then": {"required": ["rotate_secret"], "properties": {"rotate_secret": {"const": True}}},
        }
    ),
]


class WebhookList(msgspec.Struct):
    webhooks: list[EndpointView]


class DeliveryLog(msgspec.Struct):
    deliveries: list[DeliveryView]
    next: str | None


class AuditLog(msgspec.Struct):
    entries: list[AuditRecord]
    next: str | None


def require_admin(request: Request) -> Identity:
    who = identify(request)
    if who.role != "admin":
        raise TicketError("forbidden", "admins only")
    return who


def _registry(request: Request) -> WebhookEndpoints:
    registry: WebhookEndpoints = request.app.state.webhooks
    return registry


def audit_entries(request: Request) -> AuditEntries:
    entries: AuditEntries = request.app.state.audit
    return entries


def _checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except Exception:
        raise TicketError("bad_request", "url is not a valid http(s) URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TicketError("bad_request", "url must be an http(s) URL with a host")
    return url


def path_id(request: Request) -> str:
    """The `{id}` of the path; one no row can have (too long, NUL) is simply not found."""
    value = request.path_params["id"]
    if len(value) > 128 or "\x00" in value:
        raise TicketError("not_found", "no such id")
    return str(value)


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and (len(value) > 128 or "\x00" in value):
        raise TicketError("bad_request", f"{name} must be at most 128 characters, without NUL")
    return value


def _events(events: Sequence[str]) -> list[str]:
    return [e for e in EVENT_TYPES if e in set(events)]


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before")
    return None if raw in (None, "") else int_param(request, "before", 0, 1, 2**62)


@endpoint
async def list_webhooks(request: Request) -> Response:
    require_admin(request)
    return json_response(WebhookList(await _registry(request).list()))


@endpoint
async def create_webhook(request: Request) -> Response:
    who = require_admin(request)
    body: NewWebhook = await read_body(request, NewWebhook)
    view = await _registry(request).create(
        actor_of(who),
        _checked_url(body.url),
        _events(body.events),
        body.include_internal,
        body.description,
        body.secret,
    )
    return json_response(view, 201)


@endpoint
async def get_webhook(request: Request) -> Response:
    require_admin(request)
    view = await _registry(request).get(path_id(request))
    if view is None:
        raise TicketError("not_found", "no such webhook")
    return json_response(view)


@endpoint
async def patch_webhook(request: Request) -> Response:
    who = require_admin(request)
    body: WebhookPatch = await read_body(request, WebhookPatch)
    changes: dict[str, Any] = {}
    for name in ("url", "events", "include_internal", "description", "active"):
        value = getattr(body, name)
        if value is not msgspec.UNSET:
            changes[name] = value
    if "url" in changes:
        _checked_url(changes["url"])
    if "events" in changes:
        changes["events"] = _events(changes["events"])
    if body.secret is not msgspec.UNSET:
        if not body.rotate_secret:
            raise TicketError("bad_request", "send rotate_secret: true with a new secret")
        changes["secret"] = body.secret
    view = await _registry(request).update(actor_of(who), path_id(request), changes, body.rotate_secret)
    if view is None:
        raise TicketError("not_found", "no such webhook")
    return json_response(view)


@endpoint
async def delete_webhook(request: Request) -> Response:
    who = require_admin(request)
    if not await _registry(request).delete(actor_of(who), path_id(request)):
        raise TicketError("not_found", "no such webhook")
    return Response(status_code=204)


@endpoint
async def webhook_deliveries(request: Request) -> Response:
    require_admin(request)
    registry = _registry(request)
    endpoint_id = path_id(request)
    if await registry.get(endpoint_id) is None:
        raise TicketError("not_found", "no such webhook")
    limit = int_param(request, "limit", 50, 1, PAGE_MAX)
    status = request.query_params.get("status") or None
    if status is not None and status not in DeliveryStatus.__args__:  # type: ignore[attr-defined]
        raise TicketError("bad_request", "status must be pending, delivered, failed or cancelled")
    rows = await registry.deliveries(endpoint_id, _before(request), limit + 1, status)
    more = len(rows) > limit
    return json_response(DeliveryLog(rows[:limit], rows[limit - 1].id if more else None))


@endpoint
async def audit_log(request: Request) -> Response:
    require_admin(request)
    limit = int_param(request, "limit", 50, 1, PAGE_MAX)
    rows = await audit_entries(request).entries(
        _before(request), limit + 1, _filter(request, "action"), _filter(request, "actor"), _filter(request, "target")
    )
    more = len(rows) > limit
    return json_response(AuditLog(rows[:limit], rows[limit - 1].id if more else None))


_PAGE = (
    Param("limit", Annotated[int, msgspec.Meta(ge=1, le=PAGE_MAX)], "page size (default 50)"),
    Param("before", Annotated[int, msgspec.Meta(ge=1)], "`next` of the previous page"),
)
routes = api_routes(
    (
        list_webhooks,
        Operation(
            "GET", "/api/admin/webhooks", "List webhook endpoints", auth="admin", response=WebhookList, tag="webhooks"
        ),
    ),
    (
        create_webhook,
        Operation(
            "POST",
            "/api/admin/webhooks",
            "Register a webhook endpoint",
            auth="admin",
            request=NewWebhook,
            response=EndpointView,
            status=201,
            tag="webhooks",
            description="The answer carries the signing secret; it is not shown again.",
        ),
    ),
    (
        get_webhook,
        Operation(
            "GET",
            "/api/admin/webhooks/{id}",
            "One webhook endpoint",
            auth="admin",
            response=EndpointView,
            tag="webhooks",
        ),
    ),
    (
        patch_webhook,
        Operation(
            "PATCH",
            "/api/admin/webhooks/{id}",
            "Change, pause, re-enable or rotate the secret of an endpoint",
            auth="admin",
            request=WebhookPatchStated,
            response=EndpointView,
            tag="webhooks",
        ),
    ),
    (
        delete_webhook,
        Operation(
            "DELETE",
            "/api/admin/webhooks/{id}",
            "Remove an endpoint and its delivery log",
            auth="admin",
            status=204,
            tag="webhooks",
        ),
    ),
    (
        webhook_deliveries,
        Operation(
            "GET",
            "/api/admin/webhooks/{id}/deliveries",
            "An endpoint's delivery log, newest first",
            auth="admin",
            response=DeliveryLog,
            tag="webhooks",
            query=(*_PAGE, Param("status", DeliveryStatus, "only deliveries in this state")),
        ),
    ),
    (
        audit_log,
        Operation(
            "GET",
            "/api/admin/audit",
            "The audit log of agents' and admins' actions, newest first",
            auth="admin",
            response=AuditLog,
            tag="admin",
            query=(
                *_PAGE,
                Param("action", Filter, "e.g. ticket.status"),
                Param("actor", Filter, "the acting user's id"),
                Param("target", Filter, "a ticket, user or webhook id"),
            ),
        ),
    ),
)
