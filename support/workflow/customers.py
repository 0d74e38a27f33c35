"""The customer sidebar's read: every ticket a customer opened, for agents (`GET /api/customers/{id}/tickets`).

The dashboard lays it out with the open ticket's context and the customer's callbacks (widget/desk/sidebar.js).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from support.core.errors import TicketError
from support.core.model import TicketView
from support.web.http import endpoint, identify, int_param, json_response
from support.web.openapi import Operation, Param, api_routes

CUSTOMER_TICKETS_MAX = 200


class CustomerTickets(msgspec.Struct):
    customer: str
    tickets: list[TicketView]  # newest activity first
    more: bool


@endpoint
async def customer_tickets(request: Request) -> Response:
    who = identify(request)
    if not who.is_staff:
        raise TicketError("forbidden", "for agents only")
    customer_id = request.path_params["id"]
    if not customer_id or len(customer_id) > 128 or "\x00" in customer_id:
        raise TicketError("bad_request", "a customer id is 1 to 128 characters")
    limit = int_param(request, "limit", 50, 1, CUSTOMER_TICKETS_MAX)
    store = request.app.state.gateway.store
    found = await store.list_customer_tickets(customer_id, 0, limit + 1)
    return json_response(CustomerTickets(customer_id, found[:limit], len(found) > limit))


routes = api_routes(
    (
        customer_tickets,
        Operation(
            "GET",
            "/api/customers/{id}/tickets",
            "Every ticket a customer opened, newest activity first (agents)",
            auth="staff",
            response=CustomerTickets,
            tag="workflow",
            query=(
                Param(
                    "limit",
                    Annotated[int, msgspec.Meta(ge=1, le=CUSTOMER_TICKETS_MAX)],
                    f"at most this many (50; up to {CUSTOMER_TICKETS_MAX})",
                ),
            ),
        ),
    ),
)

__all__ = ["routes"]
