"""Incident-aware intake on a gateway node: the status page's incidents (fetched, cached), ticket links to them,
and the resolution watcher that tells every linked ticket, exactly once, that its incident is resolved.

The status page is another service: when it cannot be reached, matching finds nothing and the watcher waits.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Callable

from support.core.bus import Bus
from support.core.clock import utcnow
from support.incidents.feed import StatusEvent, StatusFeed
from support.incidents.status_client import IncidentUpdate, StatusClient, StatusIncident
from support.incidents.ports import IncidentLinks
from support.core.model import TicketView
from support.core.settings import Settings
from support.core.errors import TicketError
from support.core.i18n import DEFAULT_LANGUAGE, message, supported
from support.tickets.service import TicketService

log = logging.getLogger("helpline.incidents")

CLAIM_BATCH = 200  # links claimed per incident per round; the rest follow in the next rounds
LEASE_S = 30.0  # a node that dies holding claims delays those notices by at most this long
CONCURRENT_POSTS = 16
SLOW_PATH_EVERY = 12  # rounds between look-ups of pending incidents too old for the resolved list


def resolution_notice(incident: StatusIncident, language: str = DEFAULT_LANGUAGE) -> str:
    """What the customer reads in the thread when the incident they follow is resolved, in the ticket's language
    (the `language` its context carries: the widget's, or the token's `locale`); the update's own words as written."""
    note = next((u.body for u in incident.updates if u.status == "resolved" and u.body), "")
    text = message(language, "support.incidentResolved", {"name": incident.name})
    if note:
        text += f"\n\n{note}"
    if incident.shortlink:
        text += "\n\n" + message(language, "support.incidentDetails", {"url": incident.shortlink})
    return text[:32_000]


def client_id_for(incident_id: str) -> str:
    return f"incident-resolved:{incident_id}"


class IncidentDesk:
    """A node's incident-aware intake: links tickets to incidents and posts resolution notices."""

    def __init__(
        self,
        settings: Settings,
        tickets: TicketService,
        bus: Bus,
        links: IncidentLinks,
        on_status: Callable[[StatusEvent], None] | None = None,
    ) -> None:
        self.settings, self.tickets, self.bus, self.links = settings, tickets, bus, links
        self.store = tickets.store
        self.status = StatusClient(settings.status_url, settings.status_cache_s)
        # The live status feed: each push refreshes `status`'s cache and goes to on_status (the node's connections).
        self.feed = StatusFeed(self.status, on_status or (lambda event: None))
        self.node = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._round = 0

    def start(self) -> None:
        if self.settings.status_url:
            self._task = asyncio.create_task(self._watch(), name="incident-watcher")
            self._task.add_done_callback(_log_death)
            self.feed.start()

    async def close(self) -> None:
        await self.feed.close()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.status.close()

    async def link(self, ticket_id: str, incident: StatusIncident, linked_by: str) -> TicketView:
        await self.links.link(ticket_id, incident.id, incident.name, linked_by, utcnow())
        return await self._publish(ticket_id)

    async def unlink(self, ticket_id: str) -> TicketView:
        await self.links.unlink(ticket_id)
        return await self._publish(ticket_id)

    async def _publish(self, ticket_id: str, last_seq: int = 0, at: str | None = None) -> TicketView:
        """Tell the dashboards and Support tabs (on every node) that the ticket changed."""
        view: TicketView | None = await self.store.get_ticket(ticket_id)
        if view is None:
            raise TicketError("not_found", "no such ticket")
        view.incident = await self.links.incident_of(ticket_id)
        if last_seq > view.last_seq:  # the database may lag the bus: the committed notice is the newer truth
            view.last_seq = last_seq
            view.updated_at = max(view.updated_at, at or view.updated_at)
        self.tickets.observe(view)
        await self.bus.publish_ticket(view)
        return view

    # -- the resolution watcher --------------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            try:
                await self.watch_once()
            except asyncio.CancelledError:
                raise
            except TicketError as exc:
                log.warning("incident watcher: %s", exc.message)
            except Exception:  # one bad round (database, status page) must not end the watcher
                log.exception("incident watcher round failed")
            await asyncio.sleep(self.settings.incident_poll_s)

    async def watch_once(self) -> int:
        """One round: post the notice to every linked ticket whose incident is resolved; returns how many."""
        self._round += 1
        pending = set(await self.links.pending_incidents())
        if not pending:
            return 0
        resolved = {i.id: i for i in await self.status.resolved() if i.id in pending}
        if self._round % SLOW_PATH_EVERY == 0:  # resolved long ago, beyond the page's recent history
            for incident_id in sorted(pending - resolved.keys())[:20]:
                try:
                    found = await self.status.incident(incident_id)
                except TicketError:
                    continue
                if found.resolved_at is not None:
                    resolved[found.id] = found
        posted = 0
        for incident in resolved.values():
            posted += await self._notify(incident)
        return posted

    async def _notify(self, incident: StatusIncident) -> int:
        posted = 0
        gate = asyncio.Semaphore(CONCURRENT_POSTS)
        while True:
            claimed = await self.links.claim(incident.id, self.node, utcnow(), LEASE_S, CLAIM_BATCH)
            if not claimed:
                return posted

            async def one(ticket_id: str) -> bool | None:
                async with gate:
                    return await self._notify_ticket(ticket_id, incident)

            outcomes = await asyncio.gather(*(one(t) for t in claimed))
            posted += sum(1 for o in outcomes if o)
            if None in outcomes:  # the bus refused: retry in a later round, not in a tight loop
                return posted

    async def _notify_ticket(self, ticket_id: str, incident: StatusIncident) -> bool | None:
        """True: posted now; False: nothing (more) to post; None: could not post, retry later."""
        try:
            facts = await self.tickets.facts(ticket_id)
            language = supported(str((facts.context or {}).get("language") or "")) or DEFAULT_LANGUAGE
        except TicketError:
            language = DEFAULT_LANGUAGE  # a missing ticket is handled by the post below
        body = resolution_notice(incident, language)
        try:
            result = await self.tickets.post_system(ticket_id, client_id_for(incident.id), body)
        except TicketError as exc:
            if exc.code == "not_found":  # the ticket is gone: nobody is left to tell
                await self.links.mark_notified(ticket_id, incident.id, utcnow())
            else:
                log.warning(
                    "resolution notice to %s not posted yet: %s", ticket_id, exc.message, extra={"ticket_id": ticket_id}
                )
                await self.links.release(ticket_id, self.node)
                return None
            return False
        await self.links.mark_notified(ticket_id, incident.id, utcnow())
        if result.duplicate:
            return False  # posted before (by another node, or before a restart): said once, not twice
        await self._publish(ticket_id, result.message.seq, result.message.created_at)
        return True


def _log_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("incident watcher died", exc_info=task.exception())


__all__ = [
    "IncidentDesk",
    "IncidentUpdate",
    "StatusEvent",
    "StatusClient",
    "StatusIncident",
    "resolution_notice",
    "client_id_for",
]
