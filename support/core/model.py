"""The domain's values: users, committed messages, tickets as the API and the queue show them, and the text bounds.

One definition for every layer: the bus carries these, the store keeps them, the frames and the HTTP API encode them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

# No NUL anywhere in text: PostgreSQL cannot store it, and a message it refuses must never reach the writer.
NO_NUL = "^[^\x00]*$"
TicketId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=32_000, pattern=NO_NUL)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**53)]


# gc=False: a frozen value of strings (and a User) can never be part of a reference cycle, so the garbage collector
# need not track it. A node keeps many messages (recent history, the idempotency cache); tracked, each full
# collection walked them all, and at 2,000 messages/s those collections stalled the event loop for 100-170 ms.
class User(msgspec.Struct, frozen=True, gc=False):
    id: str
    name: str
    role: str


class Message(msgspec.Struct, frozen=True, gc=False):
    """A committed message: what the bus carries, the store keeps and clients receive."""

    id: str
    ticket: str
    seq: int
    client_id: str
    author: User
    body: str
    internal: bool
    created_at: str


class Customer(msgspec.Struct, frozen=True):
    id: str
    name: str


class TicketView(msgspec.Struct):
    """A ticket as the API and the queue show it (contract §3)."""

    id: str
    subject: str
    status: str
    plan: str
    priority: int
    category: str
    customer: Customer
    assignee: str | None
    created_at: str
    updated_at: str
    last_seq: int
    first_response_due: str | None
    first_response_at: str | None = None
    solved_at: str | None = None
    first_response_breached: bool | None = None  # workflow/targets.py: met (false), breached (true), running (null)
    resolution_s: int | None = None
    reviewed_at: str | None = None  # a free report triaged without a reply ("received and reviewed")
    page_url: str | None = None
    context: dict[str, Any] | None = None
    read_seq: int | None = None
    # In a customer's own list: the messages they have not read that they would see (others' words, never notes).
    unread: int | None = None
    incident: str | None = None  # the status page incident the ticket follows (support/incidents/service.py)
    follow_up_of: str | None = None  # the closed ticket this one follows up (POST /api/tickets follow_up_of)
    follow_ups: list[str] | None = None  # the tickets that follow this one up (GET /api/tickets/{id} only)
    tags: list[str] = msgspec.field(default_factory=list)  # agents' labels, sorted (support/core/tags.py)
