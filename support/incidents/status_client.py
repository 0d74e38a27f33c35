"""The status page as a gateway node reads it: its JSON API's incidents (msgspec Structs) and `StatusClient`, which
fetches them and caches the active ones briefly. The status page is another service: when it cannot be reached,
`active()` answers the last known incidents (or none) and the other calls raise TicketError `unavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from support.core.errors import TicketError
from support.incidents.match import ActiveIncident, incident_text

log = logging.getLogger("helpline.incidents")


class IncidentUpdate(msgspec.Struct, forbid_unknown_fields=False):
    status: str = ""
    body: str = ""
    created_at: str = ""


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
    scheduled_for: str | None = None  # maintenances only
    scheduled_until: str | None = None

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

    def accept(self, active: list[StatusIncident]) -> None:
        """The active incidents as the status page just pushed them (support/incidents/feed.py): fresh as of now."""
        self._active = active
        self._fetched_at = time.monotonic()

    async def incident(self, incident_id: str) -> StatusIncident:
        if not incident_id or len(incident_id) > 64 or "/" in incident_id:
            raise TicketError("not_found", "no such incident")
        # Quoted: an id from a URL path may hold characters httpx refuses (a 500 that schemathesis found).
        found: _OneIncident = await self._get(f"/api/incidents/{quote(incident_id, safe='')}", _OneIncident)
        return found.incident

    async def resolved(self) -> list[StatusIncident]:
        body: _StatusBody = await self._get("/api/incidents?state=resolved", _StatusBody)
        return body.incidents
