"""Full-text search over the articles behind one small interface: SQLite FTS5 (embedded) or PostgreSQL.

Both fold diacritics (Vietnamese with or without its marks), stem English, weigh title over tags and synonyms over
body, and take the query's words as support/help/search_text.py expands them (completion of the word being typed,
typo corrections from the articles' vocabulary), so both read a query the same way as the in-memory index. The
snippet is quoted by search_text.snippet from the body the engine returns. The index follows the Markdown folder
(sync); it is never edited by hand. Migration 0008 makes the tokenizers, configurations and indexes.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

from sqlalchemy import text

from persistence.store import TicketStore
from support.help import search_text
from support.help.article_files import Article
from support.help.memory_index import MemoryArticleIndex
from support.help.ports import ArticleHit, ArticleIndex


def _row(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "category": article.category,
        "tags": article.keywords,
        "body": article.text,
        "digest": article.digest,
        "updated_at": article.updated_at,
    }


class _SqlIndex:
    """What both engines share: keeping help_articles in step with the folder, the vocabulary the query is
    expanded from, and quoting the snippet."""

    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.vocabulary = search_text.Vocabulary()

    async def sync(self, articles: Sequence[Article]) -> None:
        self.vocabulary = await asyncio.to_thread(search_text.Vocabulary.of_articles, articles)  # CPU: off the loop
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

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        groups = self.vocabulary.alternatives(query)
        terms = search_text.flat_terms(groups)
        if not terms:
            return []
        async with self.store.sessions() as session:
            rows = (await self._ranked(session, terms, limit)).all()
        stems = search_text.query_stems(groups)
        hits = []
        for slug, title, category, body, score in rows:
            plain, safe = search_text.snippet(body or "", stems)
            hits.append(ArticleHit(slug, title, category, plain, safe, round(float(score), 6)))
        return hits

    async def _ranked(self, session: Any, terms: list[str], limit: int) -> Any:
        raise NotImplementedError


class SqliteArticleIndex(_SqlIndex):
    """FTS5 (`porter unicode61 remove_diacritics 2`); bm25 weights: title 8, tags and synonyms 4, body 1.
    FTS5 keeps đ (a letter of its own, not d with a mark), so the indexed text has it folded to d beforehand."""

    async def _after_delete(self, session: Any, slug: str) -> None:
        await session.execute(text("DELETE FROM help_articles_fts WHERE slug = :slug"), {"slug": slug})

    async def _after_upsert(self, session: Any, article: Article) -> None:
        await self._after_delete(session, article.slug)
        row = {k: search_text.fold_d(v) if k in ("title", "tags", "body") else v for k, v in _row(article).items()}
        await session.execute(
            text("INSERT INTO help_articles_fts (slug, title, tags, body) VALUES (:slug, :title, :tags, :body)"), row
        )

    async def _ranked(self, session: Any, terms: list[str], limit: int) -> Any:
        sql = text(
            "SELECT a.slug, a.title, a.category, a.body, "
            "-bm25(help_articles_fts, 0.0, 8.0, 4.0, 1.0) AS score "
            "FROM help_articles_fts JOIN help_articles a ON a.slug = help_articles_fts.slug "
            "WHERE help_articles_fts MATCH :match ORDER BY score DESC, a.slug LIMIT :limit"
        )
        return await session.execute(sql, {"match": " OR ".join(f'"{w}"' for w in terms), "limit": limit})


class PostgresArticleIndex(_SqlIndex):
    """A stored, weighted tsvector (title A, tags and synonyms B, body C) in two configurations, `helpline_en`
    (english stemming) and `helpline_simple` (whole words, for Vietnamese), both through `unaccent`; GIN index."""

    async def _ranked(self, session: Any, terms: list[str], limit: int) -> Any:
        sql = text(
            "WITH q AS (SELECT to_tsquery('helpline_en', :tsquery) || to_tsquery('helpline_simple', :tsquery) "
            "           AS query) "
            "SELECT a.slug, a.title, a.category, a.body, "
            "ts_rank('{0.1, 0.2, 0.5, 1.0}', a.search, q.query) AS score "
            "FROM help_articles a, q WHERE a.search @@ q.query ORDER BY score DESC, a.slug LIMIT :limit"
        )
        return await session.execute(sql, {"tsquery": " | ".join(terms), "limit": limit})


def open_index(store: TicketStore, engine: str = "database") -> ArticleIndex:
    """The database's own full-text engine, or ("memory") the in-memory index on any database."""
    if engine == "memory":
        return MemoryArticleIndex()
    return PostgresArticleIndex(store) if store.dialect == "postgresql" else SqliteArticleIndex(store)
