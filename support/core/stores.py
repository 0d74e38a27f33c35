"""The store ports: what the domain and the live layer ask of the database, as Protocols that persistence/
implements (persistence/store.py `TicketStore` for every one of them). No SQL here, and no import of persistence.

Guarantees every implementation gives:
- `write_messages` is idempotent on (ticket, seq): a replayed batch changes nothing; it advances each ticket's
  `last_seq` and activity in the same transaction, and returns only once that transaction is committed.
- `create_ticket` inserts the ticket and its first message (seq 1) in one transaction; a repeated
  (customer, client_id) returns the first ticket, marked not created.
- `max_seq` and `message_by_client_id` read what is committed: the bus seeds its counters and answers a repeated
  (author, `client_id`) from them after a restart.
- `messages_after` / `latest_messages` / `messages_and_cursors` return messages in seq order, internal notes only
  when asked for; reads need no transaction and may run in autocommit.
- `ping` never raises: False when the database cannot answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Protocol, Sequence

from support.core.model import Customer, Message, TicketView


@dataclass(frozen=True)
class NewTicket:
    id: str
    customer: Customer
    client_id: str | None
    subject: str
    body: str
    category: str
    plan: str
    priority: int
    page_url: str | None
    context: dict[str, Any] | None
    created_at: datetime
    first_response_due: datetime | None
    follow_up_of: str | None = None


class _Unset:
    """`update_ticket(assignee=UNSET)`: leave the assignee as it is (None unassigns)."""


UNSET: Any = _Unset()


class MessageStore(Protocol):
    """What a bus needs of the database: the committed history, to seed counters and to write (memory bus)."""

    async def write_messages(self, messages: Iterable[Message]) -> None: ...

    async def max_seq(self, ticket_id: str) -> int: ...

    async def message_by_client_id(self, ticket_id: str, author_id: str, client_id: str) -> Message | None:
        """The author's message with this client_id: the key is (ticket, author, client_id), never another's."""

    async def latest_messages(self, ticket_id: str, count: int, include_internal: bool) -> list[Message]: ...


class TicketStore(MessageStore, Protocol):
    """Tickets, their messages and read cursors: what TicketService, the dispatcher and the routes ask."""

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    async def create_ticket(self, new: NewTicket, first: Message) -> tuple[TicketView, bool]: ...

    async def get_ticket(self, ticket_id: str, reader_id: str | None = None) -> TicketView | None: ...

    async def list_customer_tickets(self, customer_id: str, offset: int, limit: int) -> list[TicketView]: ...

    async def list_queue(
        self,
        viewer_id: str,
        offset: int,
        limit: int,
        statuses: Sequence[str],
        plan: str | None = None,
        assignee: str | None = None,
        tag: str | None = None,
    ) -> list[TicketView]: ...

    async def update_ticket(
        self, ticket_id: str, now: datetime, status: str | None = None, assignee: Any = UNSET, actor: Any = None
    ) -> TicketView | None: ...

    async def messages_after(
        self, ticket_id: str, after_seq: int, limit: int, include_internal: bool
    ) -> list[Message]: ...

    async def set_read(self, ticket_id: str, user_id: str, seq: int, now: datetime) -> None: ...

    async def messages_and_cursors(
        self, ticket_id: str, after_seq: int, limit: int
    ) -> tuple[list[Message], dict[str, int]]: ...

    async def read_cursors(self, ticket_id: str) -> dict[str, int]: ...

    async def incident_of(self, ticket_id: str) -> str | None:
        """The status page incident the ticket follows, if any."""

    async def follow_ups_of(self, ticket_id: str) -> list[str]:
        """The tickets opened as follow-ups of this one (`follow_up_of`), oldest first."""

    async def incidents_of(self, ticket_ids: Sequence[str]) -> dict[str, str]:
        """ticket id -> incident id, for those of the tickets that follow one."""
