"""The article search held in memory: the same port and the same words as the database engines (search_text.py),
ranked by BM25 over the title (weight 8), tags and synonyms (4) and body (1), like SQLite's FTS5 `bm25()`.

Used where no database index is wanted (unit tests, HELPLINE_ARTICLES_SEARCH=memory); each node holds its own
copy, rebuilt from the folder on every sync, so it needs no migration and answers the same on every node.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from support.help import search_text
from support.help.article_files import Article
from support.help.ports import ArticleHit

K1, B = 1.2, 0.75
WEIGHTS = (8.0, 4.0, 1.0)  # title, tags + synonyms, body


@dataclass(frozen=True)
class _Document:
    article: Article
    fields: tuple[Counter[str], Counter[str], Counter[str]]  # stem → count, per field
    lengths: tuple[int, int, int]


def _stems(text: str) -> Counter[str]:
    return Counter(search_text.stem(w) for w in search_text.words(text))


@dataclass(frozen=True)
class _Snapshot:
    """Everything one sync builds, swapped in whole so a search never sees half of two syncs."""

    documents: tuple[_Document, ...] = ()
    vocabulary: search_text.Vocabulary = field(default_factory=search_text.Vocabulary)
    average: tuple[float, float, float] = (1.0, 1.0, 1.0)  # field lengths, in stems
    frequency: Counter[str] = field(default_factory=Counter)  # stem → how many documents hold it


def _build(articles: list[Article]) -> _Snapshot:
    documents = []
    for a in articles:
        fields = (_stems(a.title), _stems(a.keywords), _stems(a.text))
        lengths = (sum(fields[0].values()), sum(fields[1].values()), sum(fields[2].values()))
        documents.append(_Document(a, fields, lengths))
    count = max(1, len(documents))
    title, tags, body = (max(1.0, sum(d.lengths[i] for d in documents) / count) for i in range(3))
    frequency = Counter(s for d in documents for s in set().union(*d.fields))
    return _Snapshot(tuple(documents), search_text.Vocabulary.of_articles(articles), (title, tags, body), frequency)


class MemoryArticleIndex:
    def __init__(self) -> None:
        self.snapshot = _Snapshot()

    async def sync(self, articles: Sequence[Article]) -> None:
        self.snapshot = await asyncio.to_thread(_build, list(articles))  # stemming every word: off the event loop

    @staticmethod
    def _score(snapshot: _Snapshot, document: _Document, stems: frozenset[str]) -> float:
        total = len(snapshot.documents)
        score = 0.0
        for term in stems:
            df = snapshot.frequency.get(term, 0)
            if not df:
                continue
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for weight, counts, length, average in zip(WEIGHTS, document.fields, document.lengths, snapshot.average):
                tf = counts.get(term, 0)
                if tf:
                    score += weight * idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        return score

    async def search(self, query: str, limit: int) -> list[ArticleHit]:
        snapshot = self.snapshot
        groups = snapshot.vocabulary.alternatives(query)
        stems = search_text.query_stems(groups)
        if not stems:
            return []
        scored = [(self._score(snapshot, d, stems), d.article) for d in snapshot.documents]
        ranked = sorted(((s, a) for s, a in scored if s > 0), key=lambda pair: (-pair[0], pair[1].slug))[:limit]
        hits = []
        for score, a in ranked:
            plain, safe = search_text.snippet(a.text, stems)
            hits.append(ArticleHit(a.slug, a.title, a.category, plain, safe, round(score, 6), a.lang))
        return hits
