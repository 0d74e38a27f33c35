"""Incident-aware intake on a gateway node: the status page's incidents (fetched, cached), ticket links to them,
and the resolution watcher that tells every linked ticket, exactly once, that its incident is resolved.

The status page is another service: when it cannot be reached, matching finds nothing and the watcher waits.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from urllib.parse import quote
from typing import Any

import httpx
import msgspec

from support.core.bus import Bus
from support.core.clock import utcnow
from support.incidents.match import ActiveIncident, incident_text
from support.incidents.ports import IncidentLinks
from support.core.model import TicketView
from support.core.settings import Settings
from support.core.errors import TicketError
from support.tickets.service import TicketService

log = logging.getLogger("helpline.incidents")

CLAIM_BATCH = 200  # links claimed per incident per round; the rest follow in the next rounds
LEASE_S = 30.0  # a node that dies holding claims delays those notices by at most this long
CONCURRENT_POSTS = 16
SLOW_PATH_EVERY = 12  # rounds between look-ups of pending incidents too old for the resolved list


class IncidentUpdate(msgspec.Struct, forbid_unknown_fields=False):
    status: str = ""
    body: str = ""


class StatusIncident(msgspec.Struct, forbid_unknown_fields=False):
    """An incident as the status page's JSON API shows it (docs/statuspage.md)."""

    id: str
    name: str
    status: str
    impact: str = "none"
    components: list[str] = []
    updates: list[IncidentUpdate] = []  # newest first
    resolved_at: str | None = None
    shortlink: str | None = None

    def active(self) -> ActiveIncident:
        return ActiveIncident(
            self.id,
            self.name,
            self.status,
            self.impact,
            tuple(self.components),
            incident_text(self.name, [u.body for u in self.updates]),
            self.shortlink,
        )


class _StatusBody(msgspec.Struct, forbid_unknown_fields=False):
    incidents: list[StatusIncident] = []


class _OneIncident(msgspec.Struct, forbid_unknown_fields=False):
    incident: StatusIncident


def resolution_notice(incident: StatusIncident) -> str:
    """What the customer reads in the thread when the incident they follow is resolved."""
    note = next((u.body for u in incident.updates if u.status == "resolved" and u.body), "")
    text = f"Resolved: “{incident.name}”. The incident this ticket follows has been resolved."
    if note:
        text += f"\n\n{note}"
    if incident.shortlink:
        text += f"\n\nDetails: {incident.shortlink}"
    return text[:32_000]


def client_id_for(incident_id: str) -> str:
    return f"incident-resolved:{incident_id}"


class StatusClient:
    """Reads the status page's JSON API; active incidents are cached briefly and fetched by one caller at a time."""

    def __init__(self, base_url: str | None, cache_s: float) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.cache_s = cache_s
        self._http = httpx.AsyncClient(timeout=3.0, follow_redirects=False)
        self._active: list[StatusIncident] = []
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, kind: type[Any]) -> Any:
        if self.base_url is None:
            raise TicketError("unavailable", "no status page is configured (HELPLINE_STATUS_URL)")
        try:
            response = await self._http.get(self.base_url + path)
        except httpx.HTTPError as exc:
            raise TicketError("unavailable", f"the status page cannot be reached: {exc}") from None
        if response.status_code == 404:
            raise TicketError("not_found", "no such incident")
        if response.status_code != 200:
            raise TicketError("unavailable", f"the status page answered {response.status_code}")
        try:
            return msgspec.json.decode(response.content, type=kind)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise TicketError("unavailable", f"the status page answered something unreadable: {exc}") from None

    async def active(self) -> list[StatusIncident]:
        """Active incidents, at most `cache_s` old; the last known ones (or none) while the page is unreachable."""
        if self.base_url is None or time.monotonic() - self._fetched_at < self.cache_s:
            return self._active
        async with self._lock:
            if time.monotonic() - self._fetched_at < self.cache_s:
                return self._active
            try:
                body: _StatusBody = await self._get("/api/status", _StatusBody)
                self._active = [i for i in body.incidents if i.resolved_at is None and i.status != "resolved"]
            except TicketError as exc:
                log.warning("active incidents unavailable: %s", exc.message)
            self._fetched_at = time.monotonic()  # a failed fetch is not retried by every request either
            return self._active

    async def incident(self, incident_id: str) -> StatusIncident:
        if not incident_id or len(incident_id) > 64 or "/" in incident_id:
            raise TicketError("not_found", "no such incident")
        # Quoted: an id from a URL path may hold characters httpx refuses (a 500 that schemathesis found).
        found: _OneIncident = await self._get(f"/api/incidents/{quote(incident_id, safe='')}", _OneIncident)
        return found.incident

    async def resolved(self) -> list[StatusIncident]:
        body: _StatusBody = await self._get("/api/incidents?state=resolved", _StatusBody)
        return body.incidents


class IncidentDesk:
    """A node's incident-aware intake: links tickets to incidents and posts resolution notices."""

    def __init__(self, settings: Settings, tickets: TicketService, bus: Bus, links: IncidentLinks) -> None:
        self.settings, self.tickets, self.bus, self.links = settings, tickets, bus, links
        self.store = tickets.store
        self.status = StatusClient(settings.status_url, settings.status_cache_s)
        self.node = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._round = 0

    def start(self) -> None:
        if self.settings.status_url:
            self._task = asyncio.create_task(self._watch(), name="incident-watcher")
            self._task.add_done_callback(_log_death)

    async def close(self) -> None:
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
        body = resolution_notice(incident)
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


__all__ = ["IncidentDesk", "StatusClient", "StatusIncident", "resolution_notice", "client_id_for"]
