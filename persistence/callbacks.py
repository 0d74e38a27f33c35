"""Premium callback requests in SQL: support/help/ports.py `Callbacks` over the `callbacks` table.

The unique (customer_id, client_id) key makes a retried request find the first one instead of adding a second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from persistence.models_help import Callback
from persistence.store import TicketStore
from support.core.clock import iso
from support.help.ports import CallbackView


def callback_view(row: Callback) -> CallbackView:
    return CallbackView(
        row.id,
        row.ticket_id,
        {"id": row.customer_id, "name": row.customer_name},
        row.phone,
        row.preferred_time,
        row.note,
        row.status,
        iso(row.created_at) or "",
        iso(row.done_at),
        row.done_by,
    )


class CallbackRepository:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def by_client_id(self, customer_id: str, client_id: str) -> CallbackView | None:
        async with self.store.sessions() as session:
            row = await session.scalar(
                select(Callback).where(Callback.customer_id == customer_id, Callback.client_id == client_id)
            )
            return None if row is None else callback_view(row)

    async def add(self, callback: CallbackView, client_id: str | None, now: datetime) -> bool:
        row = Callback(
            id=callback.id,
            ticket_id=callback.ticket,
            customer_id=callback.customer["id"],
            customer_name=callback.customer["name"],
            client_id=client_id,
            phone=callback.phone,
            preferred_time=callback.preferred_time,
            note=callback.note,
            status=callback.status,
            created_at=now,
        )
        try:
            async with self.store.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            # A concurrent request with this client_id won; anything else is a real error.
            if client_id is None or await self.by_client_id(callback.customer["id"], client_id) is None:
                raise
            return False
        return True

    async def listing(self, customer_id: str | None, status: str | None) -> list[CallbackView]:
        query = select(Callback)
        if status is not None:
            query = query.where(Callback.status == status)
        if customer_id is not None:
            query = query.where(Callback.customer_id == customer_id)
        async with self.store.sessions() as session:
            rows = await session.scalars(query.order_by(Callback.created_at, Callback.id).limit(500))
            return [callback_view(r) for r in rows]

    async def mark_done(self, callback_id: str, agent_id: str, now: datetime) -> tuple[CallbackView, bool] | None:
        async with self.store.sessions.begin() as session:
            row = await session.get(Callback, callback_id, with_for_update=self.store.dialect == "postgresql")
            if row is None:
                return None
            first_time = row.status != "done"
            if first_time:
                row.status, row.done_at, row.done_by = "done", now, agent_id
            return callback_view(row), first_time
