"""Full-text search over the articles behind one small interface: SQLite FTS5 (embedded) or PostgreSQL.

Both rank title over tags over body and quote a snippet of the body with the matched words marked.
The index follows the Markdown folder (sync); it is never edited by hand.
"""

from __future__ import annotations

import bisect
import html
import re
from typing import Any, Sequence

from sqlalchemy import text

from persistence.store import TicketStore
from support.help.article_files import Article
from support.help.ports import ArticleHit, ArticleIndex

MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters: cannot clash with article text
MAX_TERMS = 8
MAX_COMPLETIONS = 12
WORD = re.compile(r"[^\W_]+")
STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from how i if in into is it my of on or so that the their this "
    "to was what when where which who why will with you your".split()
)


def search_terms(query: str) -> tuple[list[str], bool]:
    """The query's words (letters and digits only, so no search syntax gets through) and whether the last
    one is still being typed (no trailing space): it then also matches as a prefix."""
    words = [w for w in WORD.findall(query.lower()) if w not in STOPWORDS and len(w) <= 40]
    return words[:MAX_TERMS], bool(words) and not query[-1:].isspace() and len(words[-1]) >= 2


def marked(snippet: str) -> tuple[str, str]:
    """(plain text, safe HTML with <mark>) from a snippet carrying MARK_START/MARK_END."""
    parts = re.split(f"([{MARK_START}{MARK_END}])", snippet)
    plain, out, inside = [], [], False
    for part in parts:
        if part == MARK_START:
            out.append("<mark>")
            inside = True
        elif part == MARK_END:
            if inside:
                out.append("</mark>")
            inside = False
        else:
            plain.append(part)
            out.append(html.escape(part))
    if inside:
        out.append("</mark>")
    return "".join(plain), "".join(out)


def _row(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "category": article.category,
        "tags": " ".join(article.tags),
        "body": article.text,
        "digest": article.digest,
        "updated_at": article.updated_at,
    }


class _SqlIndex:
    """What both engines share: keeping help_articles in step with the folder, and completing the word being
    typed from the articles' own words (a stemmed index cannot: "authentica" is no prefix of "authent")."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.vocabulary: list[str] = []

    def alternatives(self, query: str) -> list[list[str]]:
        """Per query word, the whole words that may match it: itself, or its completions when being typed."""
        words, prefix = search_terms(query)
        groups = [[w] for w in words]
        if prefix:
            last = words[-1]
            start = bisect.bisect_left(self.vocabulary, last)
            completions = [w for w in self.vocabulary[start : start + MAX_COMPLETIONS] if w.startswith(last)]
            groups[-1] = [last, *(w for w in completions if w != last)]
        return groups

    async def sync(self, articles: Sequence[Article]) -> None:
        self.vocabulary = sorted(
            {w for a in articles for w in WORD.findall(f"{a.title} {' '.join(a.tags)} {a.text}".lower())}
        )
        wanted = {a.slug: a for a in articles}
        async with self.store.sessions.begin() as session:
            have: dict[str, str] = dict((await session.execute(text("SELECT slug, digest FROM help_articles"))).all())
            for slug in have.keys() - wanted.keys():
                await session.execute(text("DELETE FROM help_articles WHERE slug = :slug"), {"slug": slug})
                await self._after_delete(session, slug)
            for slug, article in wanted.items():
                if have.get(slug) == article.digest:
                    continue
                await session.execute(
                    text(
                        "INSERT INTO help_articles (slug, title, category, tags, body, digest, updated_at) "
                        "VALUES (:slug, :title, :category, :tags, :body, :digest, :updated_at) "
                        "ON CONFLICT (slug) DO UPDATE SET title = excluded.title, category = excluded.category, "
                        "tags = excluded.tags, body = excluded.body, digest = excluded.digest, "
                        "updated_at = excluded.updated_at"
                    ),
                    _row(article),
                )
                await self._after_upsert(session, article)

    async def _after_delete(self, session: Any, slug: str) -> None:
        pass

    async def _after_upsert(self, session: Any, article: Article) -> None:
        pass

    @staticmethod
    def _hits(rows: Any) -> list[ArticleHit]:
        hits = []
        for slug, title, category, snippet, score in rows:
            plain, safe = marked(snippet or "")
            hits.append(ArticleHit(slug, title, category, plain, safe, round(float(score), 6)))
        return hits


class SqliteArticleIndex(_SqlIndex):
    """FTS5 with the porter stemmer; bm25 weights: title 8, tags 4, body 1."""

    async def _after_delete(self, session: Any, slug: str) -> None:
        await session.execute(text("DELETE FROM help_articles_fts WHERE slug = :slug"), {"slug": slug})

    async def _after_upsert(self, session: Any, article: Article) -> None:
        await self._after_delete(session, article.slug)
        row = _row(article)
        await session.execute(
            text("INSERT INTO help_articles_fts (slug, title, tags, body) VALUES (:slug, :title, :tags, :body)"), row
        )

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        words = [w for group in self.alternatives(query) for w in group]
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        sql = text(
            "SELECT a.slug, a.title, a.category, "
            "snippet(help_articles_fts, 3, :start, :end, '…', 24), "
            "-bm25(help_articles_fts, 0.0, 8.0, 4.0, 1.0) AS score "
            "FROM help_articles_fts JOIN help_articles a ON a.slug = help_articles_fts.slug "
            "WHERE help_articles_fts MATCH :match ORDER BY score DESC, a.slug LIMIT :limit"
        )
        async with self.store.sessions() as session:
            rows = await session.execute(sql, {"start": MARK_START, "end": MARK_END, "match": match, "limit": limit})
            return self._hits(rows.all())


class PostgresArticleIndex(_SqlIndex):
    """A stored, weighted tsvector (title A, tags B, body C) with a GIN index; ts_rank and ts_headline."""

    HEADLINE = (
        f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=2, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        terms = [w for group in self.alternatives(query) for w in group]
        if not terms:
            return []
        # Headlines are costly: rank and cut first, then quote only the rows that are returned.
        sql = text(
            "WITH q AS (SELECT to_tsquery('english', :tsquery) AS query), "
            "top AS (SELECT a.slug, a.title, a.category, a.body, "
            "        ts_rank('{0.1, 0.2, 0.5, 1.0}', a.search, q.query) AS score "
            "        FROM help_articles a, q WHERE a.search @@ q.query "
            "        ORDER BY score DESC, a.slug LIMIT :limit) "
            "SELECT top.slug, top.title, top.category, ts_headline('english', top.body, q.query, :options), "
            "top.score FROM top, q ORDER BY top.score DESC, top.slug"
        )
        async with self.store.sessions() as session:
            rows = await session.execute(sql, {"tsquery": " | ".join(terms), "limit": limit, "options": self.HEADLINE})
            return self._hits(rows.all())


def open_index(store: TicketStore) -> ArticleIndex:
    return PostgresArticleIndex(store) if store.dialect == "postgresql" else SqliteArticleIndex(store)
