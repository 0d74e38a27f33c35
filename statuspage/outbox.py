"""The status page's durable delivery queue: the `status_deliveries` rows (migration s0004) of statuspage/delivery.py.

A delivery is written when it is decided (a confirm link, an incident change per subscriber), claimed by one worker
for a lease, and deleted once sent or given up; a failure puts it back with a later `due_at`. A claim is an UPDATE
that only succeeds while the row is unclaimed (or its lease ran out), so two workers, or two status nodes on one
PostgreSQL database, never hold the same delivery at once; a node that stops mid-send leaves a lease that runs out,
and the delivery is sent again (at least once: the receiver sees the same X-Helpline-Delivery id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from statuspage.store import StatusStore
from statuspage.tables import DeliveryRow, SubscriberRow
from statuspage.subscribers import Subscriber, subscriber_of_row

CLAIM_CANDIDATES = 8  # due rows looked at per claim: another worker may take the first ones first


@dataclass(frozen=True)
class Pending:
    id: str
    subscriber_id: str
    event: dict[str, Any]
    attempt: int
    due_at: datetime


class Outbox:
    def __init__(self, store: StatusStore) -> None:
        self._session = store._session

    async def put(self, subscriber_id: str, event: dict[str, Any], now: datetime) -> None:
        async with self._session.begin() as s:
            s.add(DeliveryRow(id=event["id"], subscriber_id=subscriber_id, event=event, attempt=1, due_at=now))

    async def put_many(self, items: list[tuple[str, dict[str, Any]]], now: datetime) -> None:
        """Every subscriber's delivery of one change, in one transaction: all are queued or none."""
        async with self._session.begin() as s:
            s.add_all(DeliveryRow(id=e["id"], subscriber_id=sid, event=e, attempt=1, due_at=now) for sid, e in items)

    async def claim(self, now: datetime, lease: timedelta) -> tuple[Pending, Subscriber | None] | None:
        """The oldest due delivery nobody holds, now held by the caller until `now + lease`, with its subscriber
        (None: they unsubscribed since); None when nothing is due."""
        free = or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now)
        async with self._session.begin() as s:
            ids = (
                await s.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.due_at <= now, free)
                    .order_by(DeliveryRow.due_at)
                    .limit(CLAIM_CANDIDATES)
                )
            ).all()
            for delivery_id in ids:
                taken = await s.execute(
                    update(DeliveryRow).where(DeliveryRow.id == delivery_id, free).values(claimed_until=now + lease)
                )
                if taken.rowcount:  # type: ignore[attr-defined]
                    row = await s.get(DeliveryRow, delivery_id)
                    assert row is not None
                    subscriber = await s.get(SubscriberRow, row.subscriber_id)
                    pending = Pending(row.id, row.subscriber_id, row.event, row.attempt, row.due_at)
                    return pending, None if subscriber is None else subscriber_of_row(subscriber)
        return None

    async def done(self, delivery_id: str) -> None:
        """Sent, or given up: never tried again."""
        async with self._session.begin() as s:
            await s.execute(delete(DeliveryRow).where(DeliveryRow.id == delivery_id))

    async def retry(self, delivery_id: str, attempt: int, due_at: datetime) -> None:
        async with self._session.begin() as s:
            await s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id)
                .values(attempt=attempt, due_at=due_at, claimed_until=None)
            )

    async def release(self, delivery_id: str) -> None:
        """Hand a claimed delivery back untried (the node is stopping): due again at once."""
        async with self._session.begin() as s:
            await s.execute(update(DeliveryRow).where(DeliveryRow.id == delivery_id).values(claimed_until=None))

    async def pending(self) -> list[Pending]:
        async with self._session() as s:
            rows = (await s.scalars(select(DeliveryRow).order_by(DeliveryRow.due_at))).all()
        return [Pending(r.id, r.subscriber_id, r.event, r.attempt, r.due_at) for r in rows]


__all__ = ["Outbox", "Pending"]
