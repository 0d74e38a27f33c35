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
    lang: str = "en"  # the article's language


class ArticleIndex(Protocol):
    async def sync(self, articles: Sequence[Article]) -> None:
        """Make the index hold exactly these articles (insert new, update changed, drop missing)."""

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        """Articles matching any word of the query, best first; the last word also matches as a prefix."""


class ArticleEvents(Protocol):
    async def record(self, slug: str, kind: str, user_id: str | None, client_id: str | None, now: datetime) -> bool:
        """Count one event; False when this (slug, kind, client_id) was counted before."""

    async def counts(self) -> dict[str, dict[str, int]]:
        """slug → kind → how many events were counted."""


class CallbackView(msgspec.Struct):
    id: str
    ticket: str
    customer: dict[str, str]
    phone: str
    preferred_time: str | None
    note: str | None
    status: str  # "requested" | "done"
    created_at: str
    done_at: str | None
    done_by: str | None


class Callbacks(Protocol):
    """Premium customers' callback requests. A customer's client_id names one callback, on any node."""

    async def by_client_id(self, customer_id: str, client_id: str) -> CallbackView | None: ...

    async def add(self, callback: CallbackView, client_id: str | None, now: datetime) -> bool:
        """Store a new request; False when the customer's client_id was taken meanwhile (nothing stored)."""

    async def listing(self, customer_id: str | None, status: str | None) -> list[CallbackView]:
        """Oldest first, at most 500; None: every customer's, every status."""

    async def mark_done(self, callback_id: str, agent_id: str, now: datetime) -> tuple[CallbackView, bool] | None:
        """The callback done (by this agent, now, unless it was already) and whether this call did it; None: none."""


class AttachmentView(msgspec.Struct):
    id: str
    ticket: str
    filename: str
    content_type: str
    size: int
    url: str
    created_at: str
    message_seq: int | None = None  # the thread message that shows it, when the upload posted one


class AttachmentRecords(Protocol):
    """The rows describing attached files (their bytes are in attachment storage). An uploader's client_id names
    one upload per ticket; another uploader's client_id is another upload."""

    async def by_client_id(self, ticket_id: str, uploader_id: str, client_id: str) -> AttachmentView | None: ...

    async def add(self, attachment: AttachmentView, uploader_id: str, client_id: str | None, now: datetime) -> bool:
        """Store a new row; False when this uploader's client_id was taken meanwhile (nothing stored)."""

    async def of_ticket(self, ticket_id: str) -> list[AttachmentView]:
        """Oldest first."""

    async def get(self, attachment_id: str) -> AttachmentView | None: ...
