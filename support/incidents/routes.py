"""HTTP calls of incident-aware intake: match a draft to active incidents, follow one, link a ticket to one.

Handlers only decode, check who may act and answer; matching is support.incidents.match, links support.incidents.service.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response


from support.core import policy
from support.web.http import endpoint, identify, json_response, read_body
from support.core.clock import utcnow
from support.incidents.match import match
from support.incidents.service import IncidentDesk
from support.web.openapi import Operation, api_routes
from support.core.model import TicketView
from support.core.errors import TicketError
from support.core.i18n import message, negotiate
from support.core.tokens import Identity


class Draft(msgspec.Struct, forbid_unknown_fields=False):
    subject: Annotated[str, msgspec.Meta(max_length=300)] = ""
    body: Annotated[str, msgspec.Meta(max_length=32_000)] = ""
    category: str | None = None


class IncidentMatch(msgspec.Struct):
    id: str
    name: str
    status: str
    impact: str
    components: list[str]
    score: float
    shortlink: str | None


class MatchList(msgspec.Struct):
    incidents: list[IncidentMatch]


class Follow(msgspec.Struct, forbid_unknown_fields=False):
    """The draft the customer was writing when they chose to follow the incident instead."""

    subject: Annotated[str, msgspec.Meta(max_length=300)] = ""
    body: Annotated[str, msgspec.Meta(max_length=32_000)] = ""
    category: policy.Category | None = None
    page_url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    context: dict[str, Any] | None = None


class LinkBody(msgspec.Struct, forbid_unknown_fields=False):
    incident_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None


def desk(request: Request) -> IncidentDesk:
    return request.app.state.incidents  # type: ignore[no-any-return]


def follower_language(request: Request, who: Identity) -> str:
    """The language of the ticket a follow opens for the customer: token claim > ?lang= > Accept-Language."""
    return negotiate(who.locale, request.query_params.get("lang"), request.headers.get("accept-language"))


@endpoint
async def match_draft(request: Request) -> Response:
    identify(request)
    draft: Draft = await read_body(request, Draft)
    active = [i.active() for i in await desk(request).status.active()]
    found = match(active, draft.subject, draft.body, draft.category)
    return json_response(
        MatchList(
            [
                IncidentMatch(i.id, i.name, i.status, i.impact, list(i.components), score, i.shortlink)
                for i, score in found
            ]
        )
    )


@endpoint
async def follow_incident(request: Request) -> Response:
    who = identify(request)
    if who.role != "customer":
        raise TicketError("forbidden", "customers follow incidents; agents link tickets to them")
    follow: Follow = await read_body(request, Follow)
    category = follow.category or "bug"
    if category not in policy.CATEGORIES:
        raise TicketError("bad_request", f"category must be one of {', '.join(policy.CATEGORIES)}")
    incident = await desk(request).status.incident(request.path_params["id"])
    if incident.resolved_at is not None:
        raise TicketError("conflict", "the incident is already resolved")
    gateway = request.app.state.gateway
    existing = await desk(request).links.customer_ticket_for(who.id, incident.id)
    if existing is not None:
        return json_response(await desk(request).link(existing, incident, who.id), 200)
    language = follower_language(request, who)
    view, created = await gateway.tickets.open_ticket(
        who,
        message(language, "support.followSubject", {"incident": incident.name})[:300],
        follow.body.strip() or message(language, "support.followBody"),
        category,
        follow.page_url,
        {**(follow.context or {}), "language": language},  # the resolution notice is written in it too
        f"incident:{incident.id}",
    )
    view = await desk(request).link(view.id, incident, who.id)
    return json_response(view, 201 if created else 200)


@endpoint
async def link_ticket(request: Request) -> Response:
    who = identify(request)
    ticket_id = request.path_params["id"]
    await request.app.state.gateway.tickets.check_view(who, ticket_id)  # agents, or the ticket's customer
    body: LinkBody = await read_body(request, LinkBody)
    if body.incident_id is None:
        view = await desk(request).unlink(ticket_id)
    else:
        incident = await desk(request).status.incident(body.incident_id)
        view = await desk(request).link(ticket_id, incident, who.id)
    if who.is_staff:  # an agent's act: audited
        await desk(request).links.audit_link(who, ticket_id, body.incident_id, utcnow())
    return json_response(view)


routes = api_routes(
    (
        match_draft,
        Operation(
            "POST",
            "/api/incidents/match",
            "Active incidents that match a draft ticket",
            request=Draft,
            response=MatchList,
            tag="incidents",
        ),
    ),
    (
        follow_incident,
        Operation(
            "POST",
            "/api/incidents/{id}/follow",
            "Follow an incident instead of reporting it (customers)",
            request=Follow,
            response=TicketView,
            status=201,
            also=(200,),
            tag="incidents",
            description="Opens (or finds) the customer's ticket linked to the incident.",
        ),
    ),
    (
        link_ticket,
        Operation(
            "POST",
            "/api/tickets/{id}/incident",
            "Link a ticket to an incident, or unlink it with null",
            request=LinkBody,
            response=TicketView,
            tag="incidents",
        ),
    ),
)
