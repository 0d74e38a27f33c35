"""The workflow's port: what the agents' workflow asks of the database (persistence/workflow_store.py
`WorkflowRepository` implements it), and the values it hands back. No SQL here.

Guarantees: `take_next_agent` advances one cursor shared by every node (two nodes never pick from the same spot);
`add_rating` stores a ticket's one rating and answers False when it was already rated, on any node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Sequence

from support.workflow.reports import Rating, TicketFacts
from support.workflow.signals import Report
from support.workflow.targets import QueuedTicket


@dataclass
class CannedReply:
    id: str
    title: str
    body: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CsatRating:
    ticket_id: str
    customer_id: str
    plan: str
    score: int
    comment: str | None
    created_at: datetime


class WorkflowStore(Protocol):
    async def set_reviewed(self, ticket_id: str, agent_id: str, reviewed: bool, now: datetime) -> bool:
        """Mark a report "received and reviewed" (or take the mark back); False when there is no such ticket."""

    async def set_away(self, agent_id: str, name: str, away: bool, now: datetime) -> None: ...

    async def away_agents(self) -> set[str]: ...

    async def agent_states(self) -> dict[str, bool]: ...

    async def set_capacity(self, agent_id: str, name: str, capacity: int | None, now: datetime) -> None:
        """The most active tickets auto-assignment gives the agent (None: no limit)."""

    async def capacities(self) -> dict[str, int]:
        """Agents with a capacity set, and that capacity."""

    async def open_assigned(self, agent_ids: Sequence[str]) -> dict[str, int]:
        """Active (open, pending) tickets assigned to each of these agents; agents with none may be left out."""

    async def take_next_agent(self, available: Sequence[str], now: datetime) -> str | None: ...

    async def list_canned(self) -> list[CannedReply]: ...

    async def get_canned(self, canned_id: str) -> CannedReply | None: ...

    async def add_canned(self, reply: CannedReply) -> CannedReply: ...

    async def edit_canned(
        self, canned_id: str, title: str | None, body: str | None, now: datetime
    ) -> CannedReply | None: ...

    async def delete_canned(self, canned_id: str) -> bool: ...

    async def add_rating(self, rating: CsatRating) -> bool: ...

    async def rating_of(self, ticket_id: str) -> CsatRating | None: ...

    async def report_facts(self, since: datetime) -> tuple[list[TicketFacts], list[Rating]]: ...

    async def free_reports(self, since: datetime) -> list[Report]: ...

    async def waiting_tickets(self) -> tuple[list[QueuedTicket], int]: ...

    async def recent_first_responses(
        self, since: datetime, plan: str | None = None, limit: int = 500
    ) -> list[tuple[datetime, datetime]]: ...
