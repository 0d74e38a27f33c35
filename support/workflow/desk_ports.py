"""The desk's port (issue 20): tags, full-text search, saved views, macros and the facts behind the report charts.
persistence/desk_store.py `DeskRepository` implements it on SQLite and PostgreSQL. No SQL here.

Guarantees: `change_ticket` applies status, assignee and tags in one transaction with their audit entries (all or
nothing); `search` never returns a ticket for its internal notes unless `include_internal`, and never another
customer's ticket when `customer_id` is set; results come newest first by opening time, paged by a keyset cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, Sequence

import msgspec

from support.core import tags
from support.core.model import NO_NUL, TicketView

Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=tags.MAX_LENGTH, pattern=tags.PATTERN)]
StatusFilter = Literal["active", "all", "open", "pending", "solved", "closed"]
PlanFilter = Literal["free", "pro", "pro_plus", "premium"]


class ViewFilters(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A filter set: what a saved view stores and what the search endpoint takes as query parameters."""

    q: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None  # words in subjects and threads
    status: StatusFilter | None = None  # "all" when unset
    plan: PlanFilter | None = None
    # an agent id, "me" (the viewer) or "none" (unassigned)
    assignee: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)] | None = None
    tag: Tag | None = None
    breached: bool | None = None  # first-response target breached (true) or not (false)
    since: date | None = None  # opened on or after this day (UTC)
    until: date | None = None  # opened on or before this day (UTC)


@dataclass(frozen=True)
class TicketQuery:
    """A search, resolved for one viewer: words cleaned, names resolved, dates parsed."""

    terms: Sequence[str]
    prefix: bool  # the last word is still being typed: it also matches as a prefix
    include_internal: bool
    customer_id: str | None  # a customer searches their own tickets only
    statuses: Sequence[str] | None
    plan: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    tag: str | None = None
    breached: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, str] | None = None  # the cursor: (created_at, id) of the previous page's last ticket
    limit: int = 25
    now: datetime | None = None


@dataclass
class SearchHit:
    ticket: TicketView
    snippet: str | None  # the best matching message's text around the words, plain text
    created_at: datetime  # exact, for the next page's cursor


@dataclass
class SavedView:
    id: str
    name: str
    filters: ViewFilters
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Macro:
    id: str
    title: str
    body: str | None  # the reply (canned-reply placeholders), or None: the macro only changes the ticket
    status: str | None
    add_tags: list[str]
    remove_tags: list[str]
    assignee: str | None  # an agent id, "me" (whoever applies it), "none" (unassign) or None (unchanged)
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TicketChange:
    """What one action changes on a ticket; `assignee` is UNSET (support.core.stores) to leave it."""

    status: str | None = None
    assignee: Any = None
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()
    action: str | None = None  # an extra audit action for the whole change ("ticket.macro"), with `details`
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChartTicket:
    plan: str
    created_at: datetime
    first_response_due: datetime | None
    first_response_at: datetime | None
    solved_at: datetime | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ChartRating:
    plan: str
    score: int
    created_at: datetime


class DeskStore(Protocol):
    async def change_ticket(self, ticket_id: str, change: TicketChange, actor: Any, now: datetime) -> TicketView | None:
        """Apply the change in one transaction (None: no such ticket); TicketError(conflict) on a refused
        status transition, leaving the ticket as it was."""

    async def tag_counts(self, active_only: bool) -> list[tuple[str, int]]: ...

    async def search(self, query: TicketQuery) -> list[SearchHit]: ...

    async def list_views(self) -> list[SavedView]: ...

    async def add_view(self, view: SavedView) -> SavedView:
        """TicketError(conflict) when the name is taken."""

    async def edit_view(
        self, view_id: str, name: str | None, filters: ViewFilters | None, now: datetime
    ) -> SavedView | None: ...

    async def delete_view(self, view_id: str) -> bool: ...

    async def list_macros(self) -> list[Macro]: ...

    async def get_macro(self, macro_id: str) -> Macro | None: ...

    async def add_macro(self, macro: Macro) -> Macro:
        """TicketError(conflict) when the title is taken."""

    async def edit_macro(self, macro_id: str, fields: dict[str, Any], now: datetime) -> Macro | None: ...

    async def delete_macro(self, macro_id: str) -> bool: ...

    async def chart_facts(self, since: datetime) -> tuple[list[ChartTicket], list[ChartRating]]: ...
