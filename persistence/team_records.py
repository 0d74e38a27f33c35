"""Team-owned named records (the desk's saved views and macros): one table each, shared by every agent, listed by
their name, a name unique in the table. The one copy of their list / get / add / edit / delete.

A taken name is the unique index's IntegrityError, turned into TicketError(conflict): checking first and then
inserting would let two agents saving the same name at once both pass the check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from persistence.store import TicketStore
from support.core.errors import TicketError

Row = TypeVar("Row")
Out = TypeVar("Out")


class TeamRecords(Generic[Row, Out]):
    """The rows of `model`, ordered by `order_by`, handed out as `to_port(row)`; `conflict` is the error for a taken name."""

    def __init__(
        self, store: TicketStore, model: type[Row], order_by: Any, to_port: Callable[[Row], Out], conflict: str
    ) -> None:
        self.store = store
        self.model = model
        self.order_by = order_by
        self.to_port = to_port
        self.conflict = conflict

    async def list(self) -> list[Out]:
        async with self.store.reads() as session:
            return [self.to_port(r) for r in await session.scalars(select(self.model).order_by(self.order_by))]

    async def get(self, record_id: str) -> Out | None:
        async with self.store.reads() as session:
            row = await session.get(self.model, record_id)
            return None if row is None else self.to_port(row)

    async def add(self, row: Row) -> Out:
        try:
            async with self.store.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise TicketError("conflict", self.conflict) from None
        return self.to_port(row)

    async def edit(self, record_id: str, fields: dict[str, Any], now: datetime) -> Out | None:
        """Set these columns and `updated_at`; None when there is no such record."""
        try:
            async with self.store.sessions.begin() as session:
                row = await session.get(self.model, record_id)
                if row is None:
                    return None
                for name, value in fields.items():
                    setattr(row, name, value)
                setattr(row, "updated_at", now)
        except IntegrityError:
            raise TicketError("conflict", self.conflict) from None
        return self.to_port(row)

    async def delete(self, record_id: str) -> bool:
        table: Any = self.model
        async with self.store.sessions.begin() as session:
            return bool((await session.execute(delete(table).where(table.id == record_id))).rowcount)  # type: ignore[attr-defined]


__all__ = ["TeamRecords"]
