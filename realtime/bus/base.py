"""The bus interface every backend implements, and the events it carries.

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

from realtime.protocol import Message, TicketView, User


class Draft(msgspec.Struct, frozen=True):
    """A message before commit: everything but its seq and id."""
    ticket: str
    client_id: str
    author: User
    body: str
    internal: bool
    created_at: str

    def committed(self, seq: int) -> Message:
        return Message(id=f"{self.ticket}:{seq}", ticket=self.ticket, seq=seq, client_id=self.client_id,
                       author=self.author, body=self.body, internal=self.internal, created_at=self.created_at)


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


BusEvent = Union[MessageEvent, TypingEvent, ReadEvent, PresenceEvent, TicketEvent]

# Called by the bus for every event of a subscribed ticket (ticket id) or of the agents' queue (None).
EventSink = Callable[[str | None, BusEvent], None]


class Unavailable(Exception):
    """The bus cannot commit right now (e.g. Redis is down); nothing was acked."""


class Bus(Protocol):
    async def start(self, sink: EventSink) -> None: ...

    async def close(self) -> None: ...

    async def ready(self) -> bool: ...

    async def commit(self, draft: Draft) -> CommitResult: ...

    async def recent(self, ticket: str, after_seq: int) -> list[Message] | None: ...

    async def subscribe(self, ticket: str) -> None: ...

    async def unsubscribe(self, ticket: str) -> None: ...

    async def publish(self, ticket: str, event: BusEvent) -> None: ...

    async def publish_ticket(self, view: TicketView) -> None: ...

    async def presence_join(self, ticket: str, connection_id: str, user: User) -> None: ...

    async def presence_leave(self, ticket: str, connection_id: str, user: User) -> None: ...

    async def presence_members(self, ticket: str) -> list[User]: ...

    async def presence_refresh(self, memberships: list[tuple[str, str, User]]) -> None: ...
