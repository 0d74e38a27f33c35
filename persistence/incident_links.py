"""Queries over ticket ↔ incident links: link, look up, and claim the links whose resolution notice is owed.

Claims are leases, so many gateway nodes can run the resolution watcher; the notice itself is made exactly-once
by the bus's client_id de-duplication, not by these rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import delete, or_, select, update

from persistence import audit, outbox
from persistence.models_incidents import TicketIncident
from persistence.store import TicketStore
from support.core.tokens import Identity


async def link(
    store: TicketStore, ticket_id: str, incident_id: str, incident_name: str, linked_by: str, now: datetime
) -> None:
    """Link a ticket to an incident (replacing another link); linking again to the same one changes nothing."""
    t = TicketIncident
    async with store.sessions.begin() as session:
        row = await session.get(t, ticket_id, with_for_update=store.dialect == "postgresql")
        if row is not None and row.incident_id == incident_id:
            return
        values = dict(
            ticket_id=ticket_id,
            incident_id=incident_id,
            incident_name=incident_name[:300],
            linked_by=linked_by,
            linked_at=now,
            notified_at=None,
            claimed_by=None,
            claim_until=None,
        )
        statement = store._insert(t).values(**values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[t.ticket_id], set_={k: v for k, v in values.items() if k != "ticket_id"}
            )
        )
        # The webhook event, in the link's own transaction (persistence/outbox.py).
        await outbox.add_events(
            session,
            store.dialect,
            [
                outbox.incident_linked(
                    ticket_id, {"id": incident_id, "name": incident_name[:300], "linked_by": linked_by}, now
                )
            ],
        )


async def unlink(store: TicketStore, ticket_id: str) -> None:
    async with store.sessions.begin() as session:
        await session.execute(delete(TicketIncident).where(TicketIncident.ticket_id == ticket_id))


async def incident_of(store: TicketStore, ticket_id: str) -> str | None:
    return await store.incident_of(ticket_id)


async def incidents_of(store: TicketStore, ticket_ids: Sequence[str]) -> dict[str, str]:
    return await store.incidents_of(ticket_ids)


async def pending_incidents(store: TicketStore) -> list[str]:
    """Incidents that still have linked tickets waiting for the resolution notice."""
    t = TicketIncident
    async with store.sessions() as session:
        return list(await session.scalars(select(t.incident_id).where(t.notified_at.is_(None)).distinct()))


async def claim(
    store: TicketStore, incident_id: str, node: str, now: datetime, lease_s: float, limit: int
) -> list[str]:
    """Take a lease on up to `limit` unnotified links of the incident; returns the claimed ticket ids."""
    t = TicketIncident
    free = or_(t.claim_until.is_(None), t.claim_until < now)
    async with store.sessions.begin() as session:
        candidates = list(
            await session.scalars(
                select(t.ticket_id).where(t.incident_id == incident_id, t.notified_at.is_(None), free).limit(limit)
            )
        )
        if not candidates:
            return []
        # The same conditions again in the UPDATE: a node that lost the race claims nothing.
        claimed = await session.scalars(
            update(t)
            .where(t.ticket_id.in_(candidates), t.incident_id == incident_id, t.notified_at.is_(None), free)
            .values(claimed_by=node, claim_until=now + timedelta(seconds=lease_s))
            .returning(t.ticket_id)
        )
        return list(claimed)


async def mark_notified(store: TicketStore, ticket_id: str, incident_id: str, now: datetime) -> None:
    t = TicketIncident
    async with store.sessions.begin() as session:
        await session.execute(
            update(t)
            .where(t.ticket_id == ticket_id, t.incident_id == incident_id)
            .values(notified_at=now, claimed_by=None, claim_until=None)
        )


async def release(store: TicketStore, ticket_id: str, node: str) -> None:
    """Give a lease back early after a failed post, so the next round (of any node) retries."""
    t = TicketIncident
    async with store.sessions.begin() as session:
        await session.execute(
            update(t).where(t.ticket_id == ticket_id, t.claimed_by == node).values(claimed_by=None, claim_until=None)
        )


async def customer_ticket_for(store: TicketStore, customer_id: str, incident_id: str) -> str | None:
    """A ticket of this customer already linked to the incident (the newest), so following twice reuses it."""
    from persistence.models import Ticket

    t = TicketIncident
    async with store.sessions() as session:
        return await session.scalar(
            select(t.ticket_id)
            .join(Ticket, Ticket.id == t.ticket_id)
            .where(t.incident_id == incident_id, Ticket.customer_id == customer_id)
            .order_by(Ticket.created_at.desc())
            .limit(1)
        )


class IncidentLinkRepository:
    """support/incidents/ports.py `IncidentLinks` over the ticket store's database."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def link(self, ticket_id: str, incident_id: str, incident_name: str, linked_by: str, now: datetime) -> None:
        await link(self.store, ticket_id, incident_id, incident_name, linked_by, now)

    async def unlink(self, ticket_id: str) -> None:
        await unlink(self.store, ticket_id)

    async def incident_of(self, ticket_id: str) -> str | None:
        return await incident_of(self.store, ticket_id)

    async def pending_incidents(self) -> list[str]:
        return await pending_incidents(self.store)

    async def claim(self, incident_id: str, node: str, now: datetime, lease_s: float, limit: int) -> list[str]:
        return await claim(self.store, incident_id, node, now, lease_s, limit)

    async def mark_notified(self, ticket_id: str, incident_id: str, now: datetime) -> None:
        await mark_notified(self.store, ticket_id, incident_id, now)

    async def release(self, ticket_id: str, node: str) -> None:
        await release(self.store, ticket_id, node)

    async def customer_ticket_for(self, customer_id: str, incident_id: str) -> str | None:
        return await customer_ticket_for(self.store, customer_id, incident_id)

    async def audit_link(self, who: Identity, ticket_id: str, incident_id: str | None, now: datetime) -> None:
        async with self.store.sessions.begin() as session:
            audit.record(
                session, audit.actor_of(who), "ticket.incident", "ticket", ticket_id, {"incident": incident_id}, now
            )
