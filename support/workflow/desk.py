"""The agent's desk on one gateway node (issue 20): tags, search, saved views, macros, bulk actions, report charts.

Every change to a ticket goes through `DeskStore.change_ticket` (one transaction with its audit entries) and is then
published on the agents' queue channel, so every agent on every node sees it (and every node's held view follows).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Sequence

import msgspec

from support.core import policy
from support.core.bus import Bus
from support.core.clock import utcnow
from support.core.errors import TicketError
from support.core.model import TicketView
from support.core.stores import UNSET
from support.core.tokens import Identity
from support.tickets.service import TicketService
from support.core import tags as tag_rules
from support.workflow import report_series
from support.workflow.canned import RenderContext, render_reply
from support.workflow.desk_ports import (
    DeskStore,
    Macro,
    SavedView,
    SearchHit,
    TicketChange,
    TicketQuery,
    ViewFilters,
)
from support.workflow.ports import WorkflowStore

log = logging.getLogger("helpline.desk")
WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 8
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
BULK_MAX = 100
BULK_ACTIONS = ("assign", "tag", "untag", "solve", "review")

# The demo's macros (`helpline up`): seeded once, when the desk has none.
DEMO_MACROS = (
    (
        "Solved: fix confirmed",
        "Hi {{customer.name}}, glad that works now. I am marking this solved; reply here any "
        "time if it comes back. {{agent.name}}",
        "solved",
        ["resolved-by-fix"],
        "me",
    ),
    (
        "Need more details",
        "Hi {{customer.name}}, thanks for the report. Could you tell us the page, the symbol and the "
        "time it happened, and attach a screenshot? {{agent.name}}",
        "pending",
        ["needs-info"],
        "me",
    ),
    (
        "Known incident: link and wait",
        "Hi {{customer.name}}, this is a known incident our engineers are working on. "
        "You will get an update in this thread when it is fixed. {{agent.name}}",
        "pending",
        ["incident"],
        "me",
    ),
    (
        "Billing question: hand to billing",
        "Hi {{customer.name}}, I have passed this to our billing team, who will answer here. {{agent.name}}",
        None,
        ["billing"],
        None,
    ),
    (
        "Feature request noted",
        "Hi {{customer.name}}, thank you for the idea: it is on our list for the product team. {{agent.name}}",
        "solved",
        ["feature-request"],
        "me",
    ),
)


@dataclass
class BulkResult:
    ticket: str
    ok: bool
    error: str | None = None  # the contract error code when refused
    message: str | None = None


def search_terms(text: str) -> tuple[list[str], bool]:
    """The words (letters and digits only, so no search syntax gets through), and whether the last one is still
    being typed (no trailing space): it then also matches as a prefix."""
    words = [w for w in WORD.findall(text.lower()) if len(w) <= 40][:MAX_TERMS]
    return words, bool(words) and not text[-1:].isspace()


def encode_cursor(hit: SearchHit) -> str:
    """`<microseconds since 1970>~<ticket id>` of the page's last ticket: every string of that shape is a valid
    position (the OpenAPI pattern says so), so a cursor is never refused, only past the end."""
    micros = (hit.created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}~{hit.ticket.id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    micros, _, ticket_id = cursor.partition("~")
    if not micros.isascii() or not micros.isdigit() or not ticket_id or len(micros) > 16:
        raise TicketError("bad_request", "cursor is `next` of a previous page")
    return EPOCH + timedelta(microseconds=int(micros)), ticket_id


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def checked_filters(filters: ViewFilters) -> ViewFilters:
    """The filter set as searched and stored: its tag as stored (the types checked the rest)."""
    if filters.tag is not None:
        return msgspec.structs.replace(filters, tag=tag_rules.normalised(filters.tag))
    return filters


class Desk:
    def __init__(self, store: DeskStore, tickets: TicketService, bus: Bus, workflow_db: WorkflowStore) -> None:
        self.db = store
        self.tickets = tickets
        self.bus = bus
        self.workflow_db = workflow_db

    async def _publish(self, view: TicketView) -> TicketView:
        self.tickets.queue.remember(view)
        await self.bus.publish_ticket(view)
        return view

    async def change(self, who: Identity, ticket_id: str, change: TicketChange) -> TicketView:
        _require_staff(who)
        if change.status is not None and change.status not in policy.STATUSES:
            raise TicketError("bad_request", f"status must be one of {', '.join(policy.STATUSES)}")
        view = await self.db.change_ticket(ticket_id, change, who, utcnow())
        if view is None:
            raise TicketError("not_found", "no such ticket")
        return await self._publish(view)

    # -- tags --------------------------------------------------------------------------------------------------
    async def tag(self, who: Identity, ticket_id: str, add: Sequence[str], remove: Sequence[str]) -> TicketView:
        change = TicketChange(
            assignee=UNSET, add_tags=tag_rules.normalised_all(add), remove_tags=tag_rules.normalised_all(remove)
        )
        return await self.change(who, ticket_id, change)

    async def tag_counts(self, who: Identity, active_only: bool) -> list[tuple[str, int]]:
        _require_staff(who)
        return await self.db.tag_counts(active_only)

    # -- search ------------------------------------------------------------------------------------------------
    async def search(
        self, who: Identity, filters: ViewFilters, cursor: str | None, limit: int
    ) -> tuple[list[SearchHit], str | None]:
        filters = checked_filters(filters)
        if not who.is_staff and any(
            v is not None for v in (filters.plan, filters.assignee, filters.tag, filters.breached)
        ):
            raise TicketError("forbidden", "plan, assignee, tag and breached filters are for agents only")
        terms, prefix = search_terms(filters.q or "")
        status = filters.status or "all"
        statuses = None if status == "all" else policy.ACTIVE_STATUSES if status == "active" else (status,)
        assignee = filters.assignee
        query = TicketQuery(
            terms=terms,
            prefix=prefix,
            include_internal=who.is_staff,  # a customer never finds a ticket by an agent's note
            customer_id=None if who.is_staff else who.id,
            statuses=statuses,
            plan=filters.plan,
            assignee=who.id if assignee == "me" else None if assignee == "none" else assignee,
            unassigned=assignee == "none",
            tag=filters.tag,
            breached=filters.breached,
            since=day_start(filters.since) if filters.since else None,
            until=day_start(filters.until) + timedelta(days=1) if filters.until else None,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
            now=utcnow(),
        )
        hits = await self.db.search(query)
        more = len(hits) > limit
        hits = hits[:limit]
        return hits, encode_cursor(hits[-1]) if more and hits else None

    # -- saved views -------------------------------------------------------------------------------------------
    async def add_view(self, who: Identity, name: str, filters: ViewFilters) -> SavedView:
        _require_staff(who)
        now = utcnow()
        view = SavedView(f"v{secrets.token_hex(6)}", name.strip(), checked_filters(filters), who.id, now, now)
        return await self.db.add_view(view)

    async def edit_view(self, who: Identity, view_id: str, name: str | None, filters: ViewFilters | None) -> SavedView:
        _require_staff(who)
        found = await self.db.edit_view(
            view_id, name.strip() if name else None, checked_filters(filters) if filters else None, utcnow()
        )
        if found is None:
            raise TicketError("not_found", "no such view")
        return found

    # -- macros ------------------------------------------------------------------------------------------------
    async def add_macro(self, who: Identity, fields: dict[str, Any]) -> Macro:
        _require_staff(who)
        now = utcnow()
        checked = _macro_fields(fields)
        return await self.db.add_macro(
            Macro(
                id=f"m{secrets.token_hex(6)}",
                title=checked["title"],
                body=checked.get("body"),
                status=checked.get("status"),
                add_tags=checked.get("add_tags", []),
                remove_tags=checked.get("remove_tags", []),
                assignee=checked.get("assignee"),
                created_by=who.id,
                created_at=now,
                updated_at=now,
            )
        )

    async def edit_macro(self, who: Identity, macro_id: str, fields: dict[str, Any]) -> Macro:
        _require_staff(who)
        found = await self.db.edit_macro(macro_id, _macro_fields(fields), utcnow())
        if found is None:
            raise TicketError("not_found", "no such macro")
        return found

    async def apply_macro(self, who: Identity, macro_id: str, ticket_id: str, client_id: str) -> TicketView:
        """The reply, then status, tags and assignee in one transaction. The reply's client_id is derived from the
        caller's, so a retry after a failure between the two posts nothing twice and completes the change."""
        _require_staff(who)
        macro = await self.db.get_macro(macro_id)
        if macro is None:
            raise TicketError("not_found", "no such macro")
        view = await self.tickets.check_view(who, ticket_id)
        if macro.status is not None and macro.status != view.status:
            if not policy.can_transition(view.status, macro.status):
                raise TicketError("conflict", f"a {view.status} ticket cannot become {macro.status}")
        if macro.body:
            context = RenderContext(view.customer.name, view.customer.id, view.id, view.subject, view.plan, who.name)
            await self.tickets.post(
                who, ticket_id, f"macro:{macro.id}:{client_id}", render_reply(macro.body, context), False
            )
        assignee: Any = UNSET
        if macro.assignee == "me":
            assignee = who.id
        elif macro.assignee == "none":
            assignee = None
        elif macro.assignee:
            assignee = macro.assignee
        change = TicketChange(
            status=macro.status,
            assignee=assignee,
            add_tags=macro.add_tags,
            remove_tags=macro.remove_tags,
            action="ticket.macro",
            details={"macro": macro.id, "title": macro.title},
        )
        return await self.change(who, ticket_id, change)

    async def seed_demo_macros(self) -> None:
        if await self.db.list_macros():
            return
        now = utcnow()
        for title, body, status, add, assignee in DEMO_MACROS:
            try:
                await self.db.add_macro(
                    Macro(f"m{secrets.token_hex(6)}", title, body, status, add, [], assignee, "demo", now, now)
                )
            except TicketError:  # another node seeded it first
                pass

    # -- bulk actions ------------------------------------------------------------------------------------------
    async def bulk(
        self, who: Identity, ticket_ids: Sequence[str], action: str, assignee: str | None, tags: Sequence[str]
    ) -> list[BulkResult]:
        """One action on many tickets; each ticket succeeds or fails on its own (one refused ticket does not undo
        the others), and each change is audited and published like a single one."""
        _require_staff(who)
        if action not in BULK_ACTIONS:
            raise TicketError("bad_request", f"action must be one of {', '.join(BULK_ACTIONS)}")
        if not ticket_ids or len(ticket_ids) > BULK_MAX:
            raise TicketError("bad_request", f"1 to {BULK_MAX} tickets")
        clean = tag_rules.normalised_all(tags)
        change: TicketChange | None = None
        if action == "assign":
            change = TicketChange(assignee=who.id if assignee == "me" else assignee)
        elif action == "tag":
            change = TicketChange(assignee=UNSET, add_tags=clean)
        elif action == "untag":
            change = TicketChange(assignee=UNSET, remove_tags=clean)
        elif action == "solve":
            change = TicketChange(status="solved", assignee=UNSET)
        results = []
        for ticket_id in dict.fromkeys(ticket_ids):  # once each, in the order given
            try:
                if change is not None:
                    await self.change(who, ticket_id, change)
                else:
                    if not await self.workflow_db.set_reviewed(ticket_id, who.id, True, utcnow()):
                        raise TicketError("not_found", "no such ticket")
                    view = await self.tickets.store.get_ticket(ticket_id)
                    if view is not None:
                        await self._publish(view)
                results.append(BulkResult(ticket_id, True))
            except TicketError as exc:
                results.append(BulkResult(ticket_id, False, exc.code, exc.message))
        return results

    # -- charts ------------------------------------------------------------------------------------------------
    async def charts(self, who: Identity, days: int) -> report_series.Charts:
        _require_staff(who)
        now = utcnow()
        tickets, ratings = await self.db.chart_facts(now - timedelta(days=days + 1))
        return report_series.build_charts(tickets, ratings, days, now)


def _macro_fields(fields: dict[str, Any]) -> dict[str, Any]:
    checked = dict(fields)
    if checked.get("status") is not None and checked["status"] not in policy.STATUSES:
        raise TicketError("bad_request", f"status must be one of {', '.join(policy.STATUSES)}")
    for name in ("add_tags", "remove_tags"):
        if name in checked:
            checked[name] = tag_rules.normalised_all(checked[name] or [])
    if "title" in checked:
        checked["title"] = checked["title"].strip()
    return checked


def _require_staff(who: Identity) -> None:
    if not who.is_staff:
        raise TicketError("forbidden", "for agents only")
