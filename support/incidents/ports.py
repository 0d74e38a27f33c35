"""The incidents' port: what the incident-aware intake asks of the database about ticket ↔ incident links
(persistence/incident_links.py `IncidentLinkRepository` implements it). No SQL here.

Guarantees: `claim` takes leases that two nodes never hold on the same link at once (a node that lost the race
claims nothing); `link` writes the `incident.linked` webhook event in the link's own transaction; linking again to
the same incident changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from support.core.tokens import Identity


class IncidentLinks(Protocol):
    async def link(
        self, ticket_id: str, incident_id: str, incident_name: str, linked_by: str, now: datetime
    ) -> None: ...

    async def unlink(self, ticket_id: str) -> None: ...

    async def incident_of(self, ticket_id: str) -> str | None: ...

    async def pending_incidents(self) -> list[str]:
        """Incidents that still have linked tickets waiting for the resolution notice."""
        ...

    async def claim(self, incident_id: str, node: str, now: datetime, lease_s: float, limit: int) -> list[str]:
        """A lease on up to `limit` unnotified links of the incident; the claimed ticket ids."""
        ...

    async def mark_notified(self, ticket_id: str, incident_id: str, now: datetime) -> None: ...

    async def release(self, ticket_id: str, node: str) -> None:
        """Give a lease back early after a failed post, so the next round (of any node) retries."""
        ...

    async def customer_ticket_for(self, customer_id: str, incident_id: str) -> str | None:
        """A ticket of this customer already linked to the incident (the newest), so following twice reuses it."""
        ...

    async def audit_link(self, who: Identity, ticket_id: str, incident_id: str | None, now: datetime) -> None:
        """Record in the audit log that staff linked (or, with None, unlinked) the ticket."""
        ...
