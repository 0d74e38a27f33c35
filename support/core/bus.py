"""The bus port every backend implements (realtime/bus/memory.py, realtime/bus/redis/bus.py), and the events it
carries. Two interfaces, as centrifuge separates its Broker and PresenceManager: `Broker` (the commit point, the
short history, fan-out) and `Presence` (who is here, with expiry); `Bus` is both, as every backend here is.

Guarantees, whatever the backend:
- `commit` gives a message the next `seq` of its ticket, with no gap, and returns only once the message is durable
  (in the database for the in-memory backend; on the Redis persistence stream for Redis). A repeated `client_id`
  of the same author returns that author's first commit, marked duplicate, and nothing is appended or published
  twice. The key is (ticket, author, client_id): another author's `client_id` is never returned nor swallowed.
- Every committed message is published, in seq order per ticket, to every node subscribed to its ticket.
- `recent(ticket, after_seq)` returns every committed message after `after_seq` when the bus's short history still
  reaches back that far, else None (the caller then reads the database).
- Presence, typing and read events are ephemeral: published, never stored in the history.
"""

from __future__ import annotations

from typing import Callable, Protocol, Union

import msgspec

from support.core.model import Message, TicketView, User


class Draft(msgspec.Struct, frozen=True):
    """A message before commit: everything but its seq and id."""

    ticket: str
    client_id: str
    author: User
    body: str
    internal: bool
    created_at: str

    def committed(self, seq: int) -> Message:
        # Positional (Message's field order): this runs on every node of a room's spread for every message, and
        # keywords took about twice as long (1.2-1.7 against 0.6-0.8 µs).
        return Message(
            f"{self.ticket}:{seq}",
            self.ticket,
            seq,
            self.client_id,
            self.author,
            self.body,
            self.internal,
            self.created_at,
        )


class CommitResult(msgspec.Struct, frozen=True):
    message: Message
    duplicate: bool


class MessageEvent(msgspec.Struct, tag="message", frozen=True):
    message: Message


class TypingEvent(msgspec.Struct, tag="typing", frozen=True):
    ticket: str
    user: User
    active: bool
    internal: bool = False


class ReadEvent(msgspec.Struct, tag="read", frozen=True):
    ticket: str
    user: User
    seq: int
    origin: str = ""  # the connection that read, so it is not told of its own receipt


class PresenceEvent(msgspec.Struct, tag="presence", frozen=True):
    ticket: str
    user: User
    online: bool


class TicketEvent(msgspec.Struct, tag="ticket", frozen=True):
    ticket: TicketView


class AgentStatusEvent(msgspec.Struct, tag="agent_status", frozen=True):
    """An agent changed their status (away) or capacity: published on the `agents` room to every node's queue
    watchers (support/workflow/assignment.py); being online is presence, so it is not carried here."""

    agent: User
    away: bool
    capacity: int | None


BusEvent = Union[MessageEvent, TypingEvent, ReadEvent, PresenceEvent, TicketEvent, AgentStatusEvent]

# Called by the bus for every event of a subscribed ticket (ticket id) or of the agents' queue (None).
EventSink = Callable[[str | None, BusEvent], None]


class Broker(Protocol):
    """The commit point of messages and the fan-out of everything live across nodes."""

    async def start(self, sink: EventSink) -> None:
        """Connect; from now on every event of a subscribed ticket, and every queue update, goes to `sink`, once
        per node, in seq order per ticket (after a lost connection the backend refills the gap before going on)."""

    async def close(self) -> None:
        """Stop delivering and release connections; commits in flight fail with Unavailable."""

    async def ready(self) -> bool:
        """Whether a commit could succeed now (for /readyz); never raises."""

    async def commit(self, draft: Draft) -> CommitResult:
        """The one commit point: the next seq of the draft's ticket, with no gap, durable before this returns, then
        published. A repeated (ticket, author, client_id) returns that author's first commit, marked duplicate,
        appended and published once; another author's client_id is another message. Raises Unavailable when it cannot commit: then nothing was acked (a retry with the same
        client_id is safe)."""

    async def recent(self, ticket: str, after_seq: int) -> list[Message] | None:
        """Every committed message after `after_seq`, in seq order, when the short history reaches back that far;
        else None (the caller reads the store, then this for the tail the store has not got yet)."""

    async def catch_up(self, ticket: str, after_seq: int) -> tuple[list[Message] | None, dict[str, int] | None]:
        """What a join needs, in one read: `recent(ticket, after_seq)`, and the bus's copy of the ticket's read cursors
        (None when it has none: the caller reads the store, then hands the answer to keep_read_cursors)."""

    async def keep_read_cursors(self, ticket: str, cursors: dict[str, int]) -> None:
        """Keep a copy of the ticket's read cursors as the store just gave them; a user's highest seq wins over any
        copy's. Never raises: a failure only means the next join reads the store."""

    async def note_read(self, ticket: str, user_id: str, seq: int) -> None:
        """A read cursor moved in the store: the copy moves too, never back. Never raises."""

    async def forget_recent(self, ticket: str) -> None:
        """Drop a ticket's short history and read-cursor copy (after an erasure rewrote its messages and removed a
        user's cursors): recovery then reads the store."""

    async def subscribe(self, ticket: str) -> None:
        """Deliver this ticket's events to this node's sink from now on (idempotent)."""

    async def unsubscribe(self, ticket: str) -> None:
        """Stop delivering this ticket's events to this node (its last local member left)."""

    async def publish(self, ticket: str, event: BusEvent) -> None:
        """An ephemeral event (typing, read, presence) to every node subscribed to the ticket; never stored."""

    async def publish_ticket(self, view: TicketView) -> None:
        """A ticket's new view to every node's queue watchers (and the ticket's customer)."""

    async def publish_tickets(self, views: list[TicketView]) -> None:
        """Several tickets' new views at once (the coalesced queue flush), as publish_ticket each: one publish per
        queue channel, so every node hears one batch instead of one event per ticket."""


class Presence(Protocol):
    """Who is in a ticket (or a room such as the agents' queue): memberships per connection, with expiry."""

    async def presence_join(self, ticket: str, connection_id: str, user: User) -> list[User]:
        """Record the membership; publishes `presence` online when it is the user's first connection here. Returns
        what `presence_members` would say right after it (this user included), read in the same step."""

    async def presence_leave(self, ticket: str, connection_id: str, user: User) -> None:
        """Drop the membership; publishes `presence` offline when it was the user's last connection."""

    async def presence_members(self, ticket: str) -> list[User]:
        """The users with at least one live membership, each once."""

    async def presence_refresh(self, memberships: list[tuple[str, str, User]]) -> None:
        """Renew these (ticket, connection, user) memberships. A membership not renewed within the presence TTL
        expires (its node died): the others then see the user go offline, so presence converges."""


class Bus(Broker, Presence, Protocol):
    """What a gateway node holds: a broker that also keeps presence (both backends here are both)."""
