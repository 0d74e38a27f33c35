"""Signals: similar free reports grouped into one problem, with its count and trend, so the team acts once.

TF-IDF over subject and body with cosine similarity, grouped greedily in time order. Pure Python, no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Sequence

import msgspec

SIMILARITY = 0.3  # cosine at which a report joins a signal; tuned on short trading-platform reports
SAMPLE_CHARS = 240
MAX_TERMS = 40  # per report: the strongest terms are enough to compare, and keep big reports cheap
_WORD = re.compile(r"[a-z0-9][a-z0-9_'+.-]*[a-z0-9]|[a-z0-9]")
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't for from get gets got had has have having he her here hi hello him his how i i'm if in
into is it it's its just me my no not now of on once only or other our out over please same she should so some still
such than thank thanks that the their them then there these they this those to too up us very was we were what when
where which while who why will with would you your yes dear team help issue problem hey""".split()
)


class Report(msgspec.Struct, frozen=True):
    ticket_id: str
    subject: str
    body: str
    created_at: datetime


class Trend(msgspec.Struct):
    last_24h: int
    previous_24h: int
    direction: str  # "rising" | "falling" | "steady"


class Signal(msgspec.Struct):
    id: str
    title: str
    count: int
    trend: Trend
    ticket_ids: list[str]
    sample: str
    first_at: str
    last_at: str


def stem(word: str) -> str:
    """A crude suffix stripper: "charts", "charting", "charted" all become "chart"; enough for short reports."""
    for suffix in ("ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if len(word) > 3 and word[-1] == word[-2] else word


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def _vectors(reports: Sequence[Report]) -> list[dict[str, float]]:
    docs = [Counter(terms(f"{r.subject} {r.subject} {r.body}")) for r in reports]  # the subject counts double
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)
    vectors = []
    for doc in docs:
        weights = {t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in doc.items()}
        top = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:MAX_TERMS])
        norm = math.sqrt(sum(w * w for w in top.values())) or 1.0
        vectors.append({t: w / norm for t, w in top.items()})
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def group(reports: Sequence[Report], threshold: float = SIMILARITY) -> list[list[int]]:
    """Indexes of reports grouped by similarity: each report, oldest first, joins the group whose centroid it is
    most similar to (at least `threshold`), else starts a new group."""
    order = sorted(range(len(reports)), key=lambda i: (reports[i].created_at, reports[i].ticket_id))
    vectors = _vectors(reports)
    groups: list[list[int]] = []
    centroids: list[dict[str, float]] = []
    for i in order:
        best, best_score = -1, threshold
        for g, centroid in enumerate(centroids):
            score = cosine(vectors[i], centroid)
            if score >= best_score:
                best, best_score = g, score
        if best < 0:
            groups.append([i])
            centroids.append(dict(vectors[i]))
            continue
        groups[best].append(i)
        centroids[best] = _centroid(centroids[best], vectors[i], len(groups[best]))
    return groups


def _centroid(centroid: dict[str, float], vector: dict[str, float], size: int) -> dict[str, float]:
    merged = {t: w * (size - 1) / size for t, w in centroid.items()}
    for t, w in vector.items():
        merged[t] = merged.get(t, 0.0) + w / size
    norm = math.sqrt(sum(w * w for w in merged.values())) or 1.0
    return {t: w / norm for t, w in merged.items()}


def trend(times: Sequence[datetime], now: datetime) -> Trend:
    last = sum(1 for t in times if now - timedelta(hours=24) < t <= now)
    previous = sum(1 for t in times if now - timedelta(hours=48) < t <= now - timedelta(hours=24))
    direction = "rising" if last > previous else "falling" if last < previous else "steady"
    return Trend(last, previous, direction)


def signals(
    reports: Sequence[Report], now: datetime, min_count: int = 2, threshold: float = SIMILARITY
) -> list[Signal]:
    """Signals of at least `min_count` reports, the biggest first. A signal's id is its oldest report's ticket id,
    so it stays the same as reports join it."""
    found = []
    for members in group(reports, threshold):
        if len(members) < min_count:
            continue
        items = sorted((reports[i] for i in members), key=lambda r: (r.created_at, r.ticket_id))
        first, last = items[0], items[-1]
        found.append(
            Signal(
                id=f"sig-{first.ticket_id}",
                title=first.subject,
                count=len(items),
                trend=trend([r.created_at for r in items], now),
                ticket_ids=[r.ticket_id for r in items],
                sample=last.body[:SAMPLE_CHARS],
                first_at=_iso(first.created_at),
                last_at=_iso(last.created_at),
            )
        )
    found.sort(key=lambda s: (-s.count, -s.trend.last_24h, s.id))
    return found


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
