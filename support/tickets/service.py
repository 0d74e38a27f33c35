"""Ticket operations shared by the HTTP API and /ws: open, post, update, read history.

Decisions come from support.core.policy; this module only wires them to the store and the bus.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, Awaitable, Callable

from support.core.errors import TicketError
from support.core.stores import UNSET, NewTicket, TicketStore
from support.core import policy
from support.core.tokens import Identity
from support.core.bus import Bus, CommitResult, Draft
from support.core.errors import Unavailable
from support.core.clock import iso, parse_iso, utcnow
from support.core.model import Customer, Message, TicketView, User
from support.tickets.queue_updates import QueueUpdates
from support.core.business_hours import parse_business_hours
from support.core.settings import Settings

log = logging.getLogger("helpline.tickets")

HISTORY_PAGE_MAX = 200
JOIN_LATEST = 50
JOIN_MAX = 1000
SYSTEM_USER = User(id="system", name="Helpline", role="system")  # author of notices Helpline itself posts


def new_ticket_id() -> str:
    # Time-ordered and unguessable: milliseconds in hex, then 40 random bits.
    return f"{int(time.time() * 1000):x}{secrets.token_hex(5)}"


class TicketService:
    def __init__(self, settings: Settings, store: TicketStore, bus: Bus) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.queue = QueueUpdates(bus)
        self.hours = parse_business_hours(settings.business_hours, settings.timezone)
        # Called with every newly opened ticket before it is published (auto-assignment); each returns the view.
        self.opened_hooks: list[Callable[[TicketView], Awaitable[TicketView]]] = []
        # Told who opened a new ticket (the reply e-mails keep the token's address); a failing one is logged only.
        self.opened_by_hooks: list[Callable[[Identity, TicketView], Awaitable[None]]] = []

    # -- access ------------------------------------------------------------------------------------------------
    async def facts(self, ticket_id: str) -> TicketView:
        """The newest view of the ticket this node holds (owner, status…); read from the database when unknown.
        The caller reads it and does not change it."""
        view = self.queue.held(ticket_id)
        if view is None:
            view = await self.store.get_ticket(ticket_id)
            if view is None:
                raise TicketError("not_found", "no such ticket")
            self.queue.remember(view)
        return view

    def observe(self, view: TicketView) -> None:
        """Keep the held view in step with changes made on any node (queue channel events)."""
        if self.queue.held(view.id) is not None:
            self.queue.remember(view)

    async def check_view(self, who: Identity, ticket_id: str) -> TicketView:
        facts = await self.facts(ticket_id)
        if not policy.can_view(who.id, who.role, facts.customer.id):
            # Same answer as a missing ticket: a customer learns nothing about others' tickets.
            raise TicketError("not_found", "no such ticket")
        return facts

    # -- commands ----------------------------------------------------------------------------------------------
    async def open_ticket(
        self,
        who: Identity,
        subject: str,
        body: str,
        category: str,
        page_url: str | None,
        context: dict[str, Any] | None,
        client_id: str | None,
        follow_up_of: str | None = None,
    ) -> tuple[TicketView, bool]:
        if who.role != "customer":
            raise TicketError("forbidden", "only customers open tickets")
        if follow_up_of is not None:
            # Only one's own ticket can be followed up; another's answers as missing (no probing of ids).
            await self.check_view(who, follow_up_of)
        now = utcnow()
        ticket_id = new_ticket_id()
        if who.locale and not (context or {}).get("language"):  # notices posted later are written in it
            context = {**(context or {}), "language": who.locale}
        new = NewTicket(
            id=ticket_id,
            customer=Customer(who.id, who.name),
            client_id=client_id,
            subject=subject,
            body=body,
            category=category,
            plan=who.plan,
            priority=policy.priority_for(who.plan),
            page_url=page_url,
            context=context,
            created_at=now,
            first_response_due=policy.first_response_due_within(
                who.plan, now, self.settings.response_targets_s, self.hours
            ),
            follow_up_of=follow_up_of,
        )
        first = Draft(
            ticket_id, client_id or f"ticket:{ticket_id}", User(who.id, who.name, who.role), body, False, iso(now) or ""
        ).committed(1)
        view, created = await self.store.create_ticket(new, first)
        self.queue.remember(view)
        if created:
            for hook in self.opened_hooks:
                view = await hook(view)
            self.queue.remember(view)
            await self.bus.publish_ticket(view)
            for told in self.opened_by_hooks:
                try:
                    await told(who, view)
                except Exception:
                    log.exception("ticket %s: a hook on its opening failed", view.id, extra={"ticket_id": view.id})
        return view, created

    async def post(self, who: Identity, ticket_id: str, client_id: str, body: str, internal: bool) -> CommitResult:
        facts = await self.facts(ticket_id)
        refusal = policy.send_refusal(who.id, who.role, facts.customer.id, facts.status, internal)
        if refusal == "forbidden" and not policy.can_view(who.id, who.role, facts.customer.id):
            raise TicketError("not_found", "no such ticket")
        if refusal == "forbidden":
            raise TicketError(refusal, "internal notes are for agents only")
        if refusal:
            raise TicketError(refusal, "the ticket is closed; open a follow-up instead", reason="ticket_closed")
        draft = Draft(ticket_id, client_id, User(who.id, who.name, who.role), body, internal, iso(utcnow()) or "")
        try:
            result = await self.bus.commit(draft)
        except Unavailable as exc:
            raise TicketError("unavailable", str(exc) or "messaging is unavailable, retry") from None
        if not result.duplicate:
            try:
                await self._after_message(result.message, facts)
            except Exception as exc:  # committed already: the ack must not wait on the ticket's row
                log.warning(
                    "ticket %s: status and queue not updated after seq %d (%r)",
                    ticket_id,
                    result.message.seq,
                    exc,
                    extra={"ticket_id": ticket_id},
                )
        return result

    async def _after_message(self, message: Message, facts: TicketView) -> None:
        new_status = policy.status_after_message(facts.status, message.author.role, message.internal)
        if new_status != facts.status:
            view = await self.store.update_ticket(message.ticket, utcnow(), status=new_status)
        else:
            view = self.queue.known(message.ticket) or await self.store.get_ticket(message.ticket)
        if view is None:
            return
        # The database may lag the bus (Redis + worker): the committed message is the newer truth.
        if message.seq > view.last_seq:
            view.last_seq, view.updated_at = message.seq, max(view.updated_at, message.created_at)
        first_response = (
            policy.is_first_response(message.author.role, message.internal) and view.first_response_at is None
        )
        if first_response:
            view.first_response_at = message.created_at
            view.first_response_breached = policy.first_response_breached(
                parse_iso(view.first_response_due) if view.first_response_due else None,
                parse_iso(message.created_at),
                utcnow(),
            )
        if new_status != facts.status or first_response:  # both keep the view as this node's newest
            await self.queue.publish_now(view)
        else:
            self.queue.publish_soon(view)  # only the last activity moved: coalesced per ticket

    async def post_system(self, ticket_id: str, client_id: str, body: str) -> CommitResult:
        """Commit a public notice by Helpline itself; a repeated client_id posts nothing. The caller publishes
        the ticket change (it knows what else changed with it)."""
        await self.facts(ticket_id)
        draft = Draft(ticket_id, client_id, SYSTEM_USER, body, False, iso(utcnow()) or "")
        try:
            return await self.bus.commit(draft)
        except Unavailable as exc:
            raise TicketError("unavailable", str(exc) or "messaging is unavailable, retry") from None

    async def update(self, who: Identity, ticket_id: str, status: str | None, assignee: Any = UNSET) -> TicketView:
        if not who.is_staff:
            raise TicketError("forbidden", "only agents change tickets")
        view = await self.store.get_ticket(ticket_id)
        if view is None:
            raise TicketError("not_found", "no such ticket")
        if status is not None and status not in policy.STATUSES:
            raise TicketError("bad_request", f"status must be one of {', '.join(policy.STATUSES)}")
        if status is not None and not policy.can_transition(view.status, status):
            raise TicketError("conflict", f"a {view.status} ticket cannot become {status}")
        # The audit entry (who changed what) is written in the same transaction as the change.
        updated = await self.store.update_ticket(ticket_id, utcnow(), status=status, assignee=assignee, actor=who)
        assert updated is not None
        self.queue.remember(updated)
        await self.bus.publish_ticket(updated)
        return updated

    async def mark_read(self, who: Identity, ticket_id: str, seq: int) -> None:
        await self.check_view(who, ticket_id)
        await self.store.set_read(ticket_id, who.id, seq, utcnow())
        await self.bus.note_read(ticket_id, who.id, seq)  # after the store: the copy never leads the truth

    # -- reading -----------------------------------------------------------------------------------------------
    async def messages_after(self, ticket_id: str, after_seq: int, limit: int) -> list[Message]:
        """Committed messages after a seq, in order: the bus's recent history, else the database plus the
        bus's tail for what the worker has not written yet. Every viewer filters afterwards."""
        messages, _ = await self._history(ticket_id, after_seq, limit, with_cursors=False)
        return messages

    async def _history(
        self, ticket_id: str, after_seq: int, limit: int, with_cursors: bool
    ) -> tuple[list[Message], dict[str, int]]:
        """messages_after, and with `with_cursors` every read cursor too: in the same database session as the
        history when that comes from the database (a join then costs one session, not two)."""
        if not with_cursors:
            recent = await self._recent(ticket_id, after_seq)
        else:  # a join: the bus's copy of the read cursors comes in the same read as its recent history
            recent, copied = await self._catch_up(ticket_id, after_seq)
            if recent is not None:
                return recent[:limit], copied if copied is not None else await self._read_cursors(ticket_id)
        if recent is not None:
            return recent[:limit], {}
        if with_cursors:
            stored, cursors = await self.store.messages_and_cursors(ticket_id, after_seq, limit)
            await self.bus.keep_read_cursors(ticket_id, cursors)
        else:
            stored, cursors = await self.store.messages_after(ticket_id, after_seq, limit, include_internal=True), {}
        if len(stored) < limit:
            tail = await self._recent(ticket_id, stored[-1].seq if stored else after_seq)
            if tail:
                stored.extend(tail[: limit - len(stored)])
        return stored, cursors

    async def _catch_up(self, ticket_id: str, after_seq: int) -> tuple[list[Message] | None, dict[str, int] | None]:
        try:
            return await self.bus.catch_up(ticket_id, after_seq)
        except Unavailable as exc:
            raise TicketError("unavailable", str(exc) or "history is unavailable, retry") from None

    async def _read_cursors(self, ticket_id: str) -> dict[str, int]:
        """The store's read cursors, kept by the bus for the ticket's next joins."""
        cursors = await self.store.read_cursors(ticket_id)
        await self.bus.keep_read_cursors(ticket_id, dict(cursors))
        return cursors

    async def _recent(self, ticket_id: str, after_seq: int) -> list[Message] | None:
        try:
            return await self.bus.recent(ticket_id, after_seq)
        except Unavailable as exc:  # Redis is down: the database alone may miss the unwritten tail
            raise TicketError("unavailable", str(exc) or "history is unavailable, retry") from None

    async def history(
        self, who: Identity, ticket_id: str, after_seq: int, limit: int
    ) -> tuple[TicketView, list[Message], bool]:
        await self.check_view(who, ticket_id)
        view = await self.store.get_ticket(ticket_id, reader_id=who.id)
        assert view is not None
        view.incident = await self.store.incident_of(ticket_id)
        view.follow_ups = await self.store.follow_ups_of(ticket_id) or None
        limit = max(1, min(limit, HISTORY_PAGE_MAX))
        batch = await self.messages_after(ticket_id, after_seq, limit + 1)
        has_more = len(batch) > limit
        batch = batch[:limit]
        if batch and batch[-1].seq > view.last_seq:
            view.last_seq = batch[-1].seq
        return view, [m for m in batch if policy.can_see_message(who.role, m.internal)], has_more

    async def snapshot(
        self, who: Identity, ticket_id: str, since: int | None
    ) -> tuple[int, list[Message], bool, dict[str, int]]:
        """What `joined` carries: the last seq, the visible messages after `since` (or the latest), more to page, and
        every reader's cursor. A reconnect storm is thousands of joins: the ticket comes from the view this node
        holds, and the database is read in one session (history where the bus's recent stream does not reach)."""
        view = await self.facts(ticket_id)
        last_seq, batch, has_more, reads = await self._snapshot_after(ticket_id, view.last_seq, since)
        if since is None and has_more:  # the held view was far behind: start again from the stored one
            stored = await self.store.get_ticket(ticket_id)
            if stored is not None and stored.last_seq > view.last_seq:
                last_seq, batch, has_more, reads = await self._snapshot_after(ticket_id, stored.last_seq, since)
        if since is None and batch and not has_more:
            batch = batch[-JOIN_LATEST:]
        return last_seq, [m for m in batch if policy.can_see_message(who.role, m.internal)], has_more, reads

    async def _snapshot_after(
        self, ticket_id: str, known_last: int, since: int | None
    ) -> tuple[int, list[Message], bool, dict[str, int]]:
        after = since if since is not None else max(0, known_last - JOIN_LATEST)
        batch, reads = await self._history(ticket_id, after, JOIN_MAX + 1, with_cursors=True)
        has_more = len(batch) > JOIN_MAX
        batch = batch[:JOIN_MAX]
        return max(known_last, batch[-1].seq if batch else 0), batch, has_more, reads


__all__ = ["TicketService", "TicketError"]
