"""The article event counts (suggested, opened, deflected): support/help/ports.py `ArticleEvents` in SQL.

Counting is idempotent on (slug, kind, client_id) through the table's unique key, so a retried event counts once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, text

from persistence.store import TicketStore

_INSERT = (
    "INSERT INTO article_events (slug, kind, user_id, client_id, created_at) "
    "VALUES (:slug, :kind, :user_id, :client_id, :created_at) "
    "ON CONFLICT (slug, kind, client_id) DO NOTHING"
)


class ArticleEventRepository:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def record(self, slug: str, kind: str, user_id: str | None, client_id: str | None, now: datetime) -> bool:
        async with self.store.sessions.begin() as session:
            result = await session.execute(
                text(_INSERT),
                {"slug": slug, "kind": kind, "user_id": user_id, "client_id": client_id, "created_at": now},
            )
            return bool(cast("CursorResult[Any]", result).rowcount)

    async def counts(self) -> dict[str, dict[str, int]]:
        async with self.store.sessions() as session:
            rows = (
                await session.execute(text("SELECT slug, kind, count(*) FROM article_events GROUP BY slug, kind"))
            ).all()
        counts: dict[str, dict[str, int]] = {}
        for slug, kind, n in rows:
            counts.setdefault(slug, {})[kind] = int(n)
        return counts
