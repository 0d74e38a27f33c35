"""Queries of the agents' workflow: triage marks, away flags, the round-robin cursor, canned replies, CSAT,
and the reads behind reports, signals and the expected reply time. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Sequence, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from persistence import models
from persistence.models_workflow import AgentState, AssignmentCursor, CannedReply, CsatRating
from persistence.store import TicketStore
from support.core import policy
from support.workflow.assignment import next_agent
from support.core.clock import as_utc
from support.workflow.reports import Rating, TicketFacts
from support.workflow.signals import Report
from support.workflow import ports
from support.workflow.targets import QueuedTicket

ROUND_ROBIN = "round_robin"
SIGNAL_REPORTS_MAX = 2000  # the newest free reports grouped into signals; older ones have been acted on
REPORT_TICKETS_MAX = 200_000
WAITING_PAID_MAX = 20_000


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# -- triage ----------------------------------------------------------------------------------------------------
async def set_reviewed(store: TicketStore, ticket_id: str, agent_id: str, reviewed: bool, now: datetime) -> bool:
    """Mark a report "received and reviewed" (or take the mark back); False when there is no such ticket."""
    t = models.Ticket
    async with store.sessions.begin() as session:
        result = await session.execute(
            update(t)
            .where(t.id == ticket_id)
            .values(reviewed_at=now if reviewed else None, reviewed_by=agent_id if reviewed else None)
        )
        return bool(cast("CursorResult[Any]", result).rowcount)


# -- agents and assignment -------------------------------------------------------------------------------------
async def set_away(store: TicketStore, agent_id: str, name: str, away: bool, now: datetime) -> None:
    a = AgentState
    statement = store._insert(a).values(agent_id=agent_id, name=name, away=away, updated_at=now)
    async with store.sessions.begin() as session:
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[a.agent_id], set_={"name": name, "away": away, "updated_at": now}
            )
        )


async def away_agents(store: TicketStore) -> set[str]:
    async with store.sessions() as session:
        return set(await session.scalars(select(AgentState.agent_id).where(AgentState.away.is_(True))))


async def agent_states(store: TicketStore) -> dict[str, bool]:
    async with store.sessions() as session:
        return dict((await session.execute(select(AgentState.agent_id, AgentState.away))).all())


async def set_capacity(store: TicketStore, agent_id: str, name: str, capacity: int | None, now: datetime) -> None:
    a = AgentState
    statement = store._insert(a).values(agent_id=agent_id, name=name, away=False, capacity=capacity, updated_at=now)
    async with store.sessions.begin() as session:
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[a.agent_id], set_={"name": name, "capacity": capacity, "updated_at": now}
            )
        )


async def capacities(store: TicketStore) -> dict[str, int]:
    """The agents who set a capacity, and that capacity."""
    a = AgentState
    async with store.sessions() as session:
        rows = (await session.execute(select(a.agent_id, a.capacity).where(a.capacity.is_not(None)))).all()
    return {agent: int(cap) for agent, cap in rows if cap is not None}


async def open_assigned(store: TicketStore, agent_ids: Sequence[str]) -> dict[str, int]:
    """How many active (open, pending) tickets each of these agents holds; agents with none are left out."""
    if not agent_ids:
        return {}
    t = models.Ticket
    query = (
        select(t.assignee, func.count())
        .where(t.assignee.in_(list(agent_ids)), t.status.in_(policy.ACTIVE_STATUSES))
        .group_by(t.assignee)
    )
    async with store.sessions() as session:
        return {str(agent): int(n) for agent, n in (await session.execute(query)).all()}


async def take_next_agent(store: TicketStore, available: Sequence[str], now: datetime) -> str | None:
    """Advance the shared round-robin cursor past the next available agent and return that agent. The cursor row
    is locked (PostgreSQL) or written in one transaction (SQLite), so two nodes never pick from the same spot."""
    if not available:
        return None
    c = AssignmentCursor
    async with store.sessions.begin() as session:
        await session.execute(
            store._insert(c)
            .values(name=ROUND_ROBIN, last_agent_id=None, updated_at=now)
            .on_conflict_do_nothing(index_elements=[c.name])
        )
        row = await session.get(c, ROUND_ROBIN, with_for_update=store.dialect == "postgresql")
        assert row is not None
        chosen = next_agent(available, row.last_agent_id)
        row.last_agent_id, row.updated_at = chosen, now
        return chosen


# -- canned replies --------------------------------------------------------------------------------------------
async def list_canned(store: TicketStore) -> list[CannedReply]:
    async with store.sessions() as session:
        return list(await session.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id)))


async def get_canned(store: TicketStore, canned_id: str) -> CannedReply | None:
    async with store.sessions() as session:
        return await session.get(CannedReply, canned_id)


async def add_canned(store: TicketStore, reply: CannedReply) -> CannedReply:
    async with store.sessions.begin() as session:
        session.add(reply)
    return reply


async def edit_canned(
    store: TicketStore, canned_id: str, title: str | None, body: str | None, now: datetime
) -> CannedReply | None:
    async with store.sessions.begin() as session:
        row = await session.get(CannedReply, canned_id)
        if row is None:
            return None
        row.title = row.title if title is None else title
        row.body = row.body if body is None else body
        row.updated_at = now
        return row


async def delete_canned(store: TicketStore, canned_id: str) -> bool:
    async with store.sessions.begin() as session:
        result = await session.execute(delete(CannedReply).where(CannedReply.id == canned_id))
        return bool(cast("CursorResult[Any]", result).rowcount)


# -- CSAT ------------------------------------------------------------------------------------------------------
async def add_rating(store: TicketStore, rating: CsatRating) -> bool:
    """Store the ticket's one rating; False when it was already rated (the primary key decides, on any node)."""
    try:
        async with store.sessions.begin() as session:
            session.add(rating)
    except IntegrityError:
        return False
    return True


async def rating_of(store: TicketStore, ticket_id: str) -> CsatRating | None:
    async with store.sessions() as session:
        return await session.get(CsatRating, ticket_id)


# -- reads for reports, signals, the expected reply time ---------------------------------------------------------
async def report_facts(store: TicketStore, since: datetime) -> tuple[list[TicketFacts], list[Rating]]:
    t, r = models.Ticket, CsatRating
    async with store.sessions() as session:
        rows = (
            await session.execute(
                select(t.plan, t.created_at, t.first_response_due, t.first_response_at, t.solved_at)
                .where(t.created_at >= since)
                .order_by(t.created_at.desc())
                .limit(REPORT_TICKETS_MAX)
            )
        ).all()
        ratings = (await session.execute(select(r.plan, r.score).where(r.created_at >= since))).all()
    facts = [TicketFacts(p, as_utc(c), _utc(d), _utc(f), _utc(s)) for p, c, d, f, s in rows]
    return facts, [Rating(p, s) for p, s in ratings]


async def free_reports(store: TicketStore, since: datetime) -> list[Report]:
    """The newest free reports with their first message (the report's body)."""
    t, m = models.Ticket, models.Message
    query = (
        select(t.id, t.subject, m.body, t.created_at)
        .join(m, (m.ticket_id == t.id) & (m.seq == 1))
        .where(t.plan == "free", t.created_at >= since)
        .order_by(t.created_at.desc())
        .limit(SIGNAL_REPORTS_MAX)
    )
    async with store.sessions() as session:
        rows = (await session.execute(query)).all()
    return [Report(i, s, b, as_utc(c)) for i, s, b, c in rows]


async def waiting_tickets(store: TicketStore) -> tuple[list[QueuedTicket], int]:
    """Active tickets with no first response yet: the paid ones (their due times matter), and how many free."""
    t = models.Ticket
    waiting = (t.status.in_(policy.ACTIVE_STATUSES), t.first_response_at.is_(None))
    async with store.sessions() as session:
        paid = (
            await session.execute(
                select(t.plan, t.created_at, t.first_response_due)
                .where(*waiting, t.first_response_due.is_not(None))
                .limit(WAITING_PAID_MAX)
            )
        ).all()
        free = await session.scalar(select(func.count()).select_from(t).where(*waiting, t.first_response_due.is_(None)))
    return [QueuedTicket(p, as_utc(c), _utc(d)) for p, c, d in paid], int(free or 0)


async def recent_first_responses(
    store: TicketStore, since: datetime, plan: str | None = None, limit: int = 500
) -> list[tuple[datetime, datetime]]:
    """(created_at, first_response_at) of tickets first answered since `since`, newest first."""
    t = models.Ticket
    query = select(t.created_at, t.first_response_at).where(t.first_response_at >= since)
    if plan:
        query = query.where(t.plan == plan)
    async with store.sessions() as session:
        rows = (await session.execute(query.order_by(t.first_response_at.desc()).limit(limit))).all()
    return [(as_utc(c), as_utc(f)) for c, f in rows if f is not None]  # the query keeps answered ones only


class WorkflowRepository:
    """support/workflow/ports.py `WorkflowStore` over these queries: rows become the workflow's own values."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def set_reviewed(self, ticket_id: str, agent_id: str, reviewed: bool, now: datetime) -> bool:
        return await set_reviewed(self.store, ticket_id, agent_id, reviewed, now)

    async def set_away(self, agent_id: str, name: str, away: bool, now: datetime) -> None:
        await set_away(self.store, agent_id, name, away, now)

    async def away_agents(self) -> set[str]:
        return await away_agents(self.store)

    async def agent_states(self) -> dict[str, bool]:
        return await agent_states(self.store)

    async def set_capacity(self, agent_id: str, name: str, capacity: int | None, now: datetime) -> None:
        await set_capacity(self.store, agent_id, name, capacity, now)

    async def capacities(self) -> dict[str, int]:
        return await capacities(self.store)

    async def open_assigned(self, agent_ids: Sequence[str]) -> dict[str, int]:
        return await open_assigned(self.store, agent_ids)

    async def take_next_agent(self, available: Sequence[str], now: datetime) -> str | None:
        return await take_next_agent(self.store, available, now)

    async def list_canned(self) -> list[ports.CannedReply]:
        return [_canned(row) for row in await list_canned(self.store)]

    async def get_canned(self, canned_id: str) -> ports.CannedReply | None:
        row = await get_canned(self.store, canned_id)
        return None if row is None else _canned(row)

    async def add_canned(self, reply: ports.CannedReply) -> ports.CannedReply:
        return _canned(await add_canned(self.store, CannedReply(**dataclasses.asdict(reply))))

    async def edit_canned(
        self, canned_id: str, title: str | None, body: str | None, now: datetime
    ) -> ports.CannedReply | None:
        row = await edit_canned(self.store, canned_id, title, body, now)
        return None if row is None else _canned(row)

    async def delete_canned(self, canned_id: str) -> bool:
        return await delete_canned(self.store, canned_id)

    async def add_rating(self, rating: ports.CsatRating) -> bool:
        return await add_rating(self.store, CsatRating(**dataclasses.asdict(rating)))

    async def rating_of(self, ticket_id: str) -> ports.CsatRating | None:
        row = await rating_of(self.store, ticket_id)
        return (
            None
            if row is None
            else ports.CsatRating(row.ticket_id, row.customer_id, row.plan, row.score, row.comment, row.created_at)
        )

    async def report_facts(self, since: datetime) -> tuple[list[TicketFacts], list[Rating]]:
        return await report_facts(self.store, since)

    async def free_reports(self, since: datetime) -> list[Report]:
        return await free_reports(self.store, since)

    async def waiting_tickets(self) -> tuple[list[QueuedTicket], int]:
        return await waiting_tickets(self.store)

    async def recent_first_responses(
        self, since: datetime, plan: str | None = None, limit: int = 500
    ) -> list[tuple[datetime, datetime]]:
        return await recent_first_responses(self.store, since, plan, limit)


def _canned(row: CannedReply) -> ports.CannedReply:
    return ports.CannedReply(row.id, row.title, row.body, row.created_by, row.created_at, row.updated_at)
