"""The agents' workflow on one gateway node: auto-assignment, triage, expected reply time, signals, canned
replies, CSAT and reports. Decisions come from the pure modules it names; this only wires them to the store.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import msgspec

from support.workflow import reports, signals, targets
from support.core import policy
from support.workflow.assignment import AGENTS_ROOM, available_agents
from support.workflow.ports import CannedReply, CsatRating, WorkflowStore
from support.workflow.signals import Signal
from support.core.tokens import Identity
from support.core.business_hours import business_seconds_between
from support.workflow.canned import RenderContext, render_reply
from support.core.clock import utcnow
from support.core.model import TicketView, User
from support.core.bus import AgentStatusEvent, Bus
from support.core.errors import TicketError
from support.core.settings import Settings
from support.core.stores import TicketStore
from support.tickets.service import TicketService

log = logging.getLogger("helpline.workflow")
SIGNAL_DAYS = 7
RECENT_FIRST_RESPONSES = timedelta(days=7)


class Workflow:
    def __init__(
        self, settings: Settings, store: TicketStore, bus: Bus, tickets: TicketService, db: WorkflowStore
    ) -> None:
        self.settings = settings
        self.store = store
        self.db = db
        self.bus = bus
        self.tickets = tickets
        self.hours = tickets.hours
        if settings.auto_assign:  # the ticket service calls its hooks when a ticket is opened
            tickets.opened_hooks.append(self.auto_assign)

    # -- assignment --------------------------------------------------------------------------------------------
    async def online_agents(self) -> list[User]:
        return await self.bus.presence_members(AGENTS_ROOM)

    async def auto_assign(self, view: TicketView) -> TicketView:
        """An opened-ticket hook: give the new ticket to the next available agent. A failure here must not
        lose the ticket, so it is logged and the ticket stays in the queue unassigned."""
        try:
            online = await self.online_agents()
            capacities = await self.db.capacities()
            limited = [u.id for u in online if u.id in capacities]
            loads = await self.db.open_assigned(limited)
            available = available_agents(online, await self.db.away_agents(), capacities, loads)
            agent = await self.db.take_next_agent(available, utcnow())
            if agent is None:
                return view
            return await self.store.update_ticket(view.id, utcnow(), assignee=agent) or view
        except Exception:
            log.exception("auto-assignment of %s failed", view.id)
            return view

    async def set_away(self, who: Identity, away: bool) -> None:
        await self.set_status(who, away=away)

    async def set_status(
        self, who: Identity, away: bool | None = None, capacity: int | None | msgspec.UnsetType = msgspec.UNSET
    ) -> dict[str, object]:
        """The agent sets their own away flag and/or capacity (None: no limit); every node's queue watchers are
        told (an `agent` frame), so the team sees it live. Answers the agent as `agents()` lists them."""
        _require_staff(who)
        now = utcnow()
        if away is not None:
            await self.db.set_away(who.id, who.name, away, now)
        if not isinstance(capacity, msgspec.UnsetType):
            await self.db.set_capacity(who.id, who.name, capacity, now)
        me = next((a for a in await self.agents() if a["id"] == who.id), None)
        if me is None:  # not watching the queue right now: still stored, shown offline
            states = await self.db.agent_states()
            caps = await self.db.capacities()
            load = (await self.db.open_assigned([who.id])).get(who.id, 0)
            me = _agent(who.id, who.name, False, states.get(who.id, False), caps.get(who.id), load)
        if away is None and isinstance(capacity, msgspec.UnsetType):
            return me  # nothing changed: nobody to tell
        user = User(who.id, who.name, who.role)
        event = AgentStatusEvent(user, bool(me["away"]), _capacity_of(me))
        try:
            await self.bus.publish(AGENTS_ROOM, event)
        except Exception:  # the change is stored; the team sees it on their next look
            log.warning("publishing %s's status failed", who.id, exc_info=True)
        return me

    async def agents(self) -> list[dict[str, object]]:
        """The online agents with their away flag, capacity and active assigned tickets, by id."""
        online = {u.id: u for u in await self.online_agents() if u.role in ("agent", "admin")}
        states = await self.db.agent_states()
        caps = await self.db.capacities()
        loads = await self.db.open_assigned(sorted(online))
        return [
            _agent(u.id, u.name, True, states.get(u.id, False), caps.get(u.id), loads.get(u.id, 0))
            for u in sorted(online.values(), key=lambda u: u.id)
        ]

    # -- triage ------------------------------------------------------------------------------------------------
    async def set_reviewed(self, who: Identity, ticket_id: str, reviewed: bool) -> None:
        _require_staff(who)
        if not await self.db.set_reviewed(ticket_id, who.id, reviewed, utcnow()):
            raise TicketError("not_found", "no such ticket")

    async def signals(self, min_count: int) -> list[Signal]:
        now = utcnow()
        found = await self.db.free_reports(now - timedelta(days=SIGNAL_DAYS))
        return signals.signals(found, now, min_count)

    async def review_signal(self, who: Identity, signal_id: str) -> Signal:
        """Mark every report of a signal reviewed at once: the team acts on the problem, not on each report."""
        _require_staff(who)
        match = next((s for s in await self.signals(1) if s.id == signal_id), None)
        if match is None:
            raise TicketError("not_found", "no such signal (it may have aged out)")
        for ticket_id in match.ticket_ids:
            await self.db.set_reviewed(ticket_id, who.id, True, utcnow())
            view = await self.store.get_ticket(ticket_id)
            if view is not None:
                await self.bus.publish_ticket(view)
        return match

    # -- the customer's expected reply time --------------------------------------------------------------------
    async def expected(self, plan: str) -> targets.Expected:
        now = utcnow()
        waiting_paid, waiting_free = await self.db.waiting_tickets()
        window_start = now - timedelta(seconds=targets.THROUGHPUT_WINDOW_S)
        everyone = await self.db.recent_first_responses(window_start)
        for_plan = await self.db.recent_first_responses(now - RECENT_FIRST_RESPONSES, plan)
        recent_s = [business_seconds_between(c, f, self.hours) for c, f in for_plan]
        return targets.expected_for(
            plan, now, self.settings.response_targets_s, self.hours, waiting_paid, waiting_free, recent_s, len(everyone)
        )

    # -- canned replies ----------------------------------------------------------------------------------------
    async def add_canned(self, who: Identity, title: str, body: str) -> CannedReply:
        _require_staff(who)
        now = utcnow()
        return await self.db.add_canned(
            CannedReply(
                id=f"c{secrets.token_hex(6)}", title=title, body=body, created_by=who.id, created_at=now, updated_at=now
            )
        )

    async def render(self, who: Identity, canned_id: str, ticket_id: str, article: str | None) -> str:
        _require_staff(who)
        reply = await self.db.get_canned(canned_id)
        view = await self.store.get_ticket(ticket_id)
        if reply is None or view is None:
            raise TicketError("not_found", "no such canned reply" if reply is None else "no such ticket")
        context = RenderContext(
            customer_name=view.customer.name,
            customer_id=view.customer.id,
            ticket_id=view.id,
            ticket_subject=view.subject,
            ticket_plan=view.plan,
            agent_name=who.name,
        )
        try:
            return render_reply(reply.body, context, article)
        except ValueError as exc:
            raise TicketError("bad_request", str(exc)) from None

    # -- CSAT --------------------------------------------------------------------------------------------------
    async def rate(self, who: Identity, ticket_id: str, score: int, comment: str | None) -> CsatRating:
        view = await self.store.get_ticket(ticket_id)
        if view is None or not policy.can_view(who.id, who.role, view.customer.id):
            raise TicketError("not_found", "no such ticket")
        refusal = policy.can_rate(who.id, view.customer.id, view.status)
        if refusal == "forbidden":
            raise TicketError("forbidden", "only the customer who opened the ticket rates it")
        if refusal == "conflict":
            raise TicketError("conflict", "a ticket is rated once it is solved")
        rating = CsatRating(
            ticket_id=ticket_id,
            customer_id=who.id,
            plan=view.plan,
            score=score,
            comment=comment or None,
            created_at=utcnow(),
        )
        if not await self.db.add_rating(rating):
            raise TicketError("conflict", "this ticket was already rated")
        return rating

    async def rating(self, who: Identity, ticket_id: str) -> CsatRating | None:
        view = await self.store.get_ticket(ticket_id)
        if view is None or not policy.can_view(who.id, who.role, view.customer.id):
            raise TicketError("not_found", "no such ticket")
        return await self.db.rating_of(ticket_id)

    # -- reports -----------------------------------------------------------------------------------------------
    async def report(self, who: Identity, days: int) -> reports.Report:
        _require_staff(who)
        now = utcnow()
        since = now - timedelta(days=days)
        facts, ratings = await self.db.report_facts(since)
        return reports.build_report(facts, ratings, days, since, now)


def _agent(
    agent_id: str, name: str, online: bool, away: bool, capacity: int | None, open_assigned: int
) -> dict[str, object]:
    return {
        "id": agent_id,
        "name": name,
        "online": online,
        "away": away,
        "capacity": capacity,
        "open_assigned": open_assigned,
    }


def _capacity_of(agent: dict[str, object]) -> int | None:
    capacity = agent["capacity"]
    return capacity if isinstance(capacity, int) else None


def _require_staff(who: Identity) -> None:
    if not who.is_staff:
        raise TicketError("forbidden", "for agents only")
