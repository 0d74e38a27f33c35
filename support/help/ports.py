"""The help center's ports: the article search index and the article event counts, what the help center asks of
the database (persistence/article_search.py and persistence/article_events.py implement them). No SQL here.

Guarantees: `ArticleIndex.sync` leaves the index holding exactly the given articles; `ArticleEvents.record` counts
one (slug, kind, client_id) once, on any node.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, Sequence

import msgspec

from support.help.article_files import Article


class ArticleHit(msgspec.Struct):
    slug: str
    title: str
    category: str
    snippet: str  # plain text: render with textContent
    snippet_html: str  # the same, escaped, with the matched words in <mark>
    score: float  # higher is better; comparable only within one answer


class ArticleIndex(Protocol):
    async def sync(self, articles: Sequence[Article]) -> None:
        """Make the index hold exactly these articles (insert new, update changed, drop missing)."""

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        """Articles matching any word of the query, best first; the last word also matches as a prefix."""


class ArticleEvents(Protocol):
    async def record(self, slug: str, kind: str, user_id: str | None, client_id: str | None,
                     now: datetime) -> bool:
        """Count one event; False when this (slug, kind, client_id) was counted before."""

    async def counts(self) -> dict[str, dict[str, int]]:
        """slug → kind → how many events were counted."""
