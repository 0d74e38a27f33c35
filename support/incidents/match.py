"""Does a ticket draft describe an active incident? Pure scoring over words and the components' topics.

No I/O: the gateway hands in the incidents it fetched from the status page and the draft the user wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

CATEGORY_POINTS = 0.3  # the draft's category is one the incident's components are about
WORD_POINTS = 0.25  # each distinct word the draft shares with the incident
THRESHOLD = 0.5  # two shared words, or the category and one word; a category alone never matches
GENERIC_CATEGORIES = frozenset({"question", "other"})


@dataclass(frozen=True)
class Topic:
    """What users say and which ticket category they pick when a component is in trouble."""

    categories: frozenset[str]
    keywords: frozenset[str]


def _topic(categories: str, keywords: str) -> Topic:
    return Topic(frozenset(categories.split()), frozenset(keywords.split()))


# Keyed by the status page's component ids (statuspage/components.toml); an unknown id has only its own words.
TOPICS: dict[str, Topic] = {
    "charts": _topic("bug data", "chart drawing layout indicator candle render blank load loading timeframe"),
    "data-feeds": _topic(
        "data bug", "data feed quote price stream realtime real-time market ticker delay delayed frozen stale update"
    ),
    "alerts": _topic("bug", "alert notification trigger triggered fire fired push email"),
    "trading": _topic("bug billing", "order trade trading broker position fill filled execution"),
    "sign-in": _topic(
        "account billing", "sign signin login log password account billing payment subscription 2fa two-factor"
    ),
    "support-chat": _topic("", "chat support reply message agent"),
}

_STOPWORDS = frozenset(
    """
the and for are but not you your our with this that have has had was were been from they them their there then
when what which who why how can cant cannot could would should will just its into out off all any some does did
doesnt dont isnt wont very too also than more most much again still only over under about after before while
please help hello thanks thank issue problem working work works now today since get got see seen one two
""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def stem(word: str) -> str:
    """Plurals and -ing folded, enough to meet "charts"/"chart" and "loading"/"load"; not linguistics."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    found: set[str] = set()
    for raw in _WORD.findall(text.lower()):
        if raw in _STOPWORDS or (len(raw) < 3 and not raw.isdigit()):
            continue
        found.add(stem(raw))
        found.update(stem(part) for part in raw.split("-") if len(part) >= 3 and part not in _STOPWORDS)
    return found


def component_topic(component_id: str) -> Topic:
    known = TOPICS.get(component_id)
    own = frozenset(words(component_id.replace("-", " ")))
    if known is None:
        return Topic(frozenset(), own)
    return Topic(known.categories, frozenset(stem(k) for k in known.keywords) | own)


@dataclass(frozen=True)
class ActiveIncident:
    id: str
    name: str
    status: str
    impact: str
    components: tuple[str, ...]
    text: str  # the incident's name and its updates' bodies: what it says in words
    shortlink: str | None = None


def incident_terms(incident: ActiveIncident) -> set[str]:
    terms = words(incident.text)
    for component in incident.components:
        terms |= component_topic(component).keywords
    return terms


def score(incident: ActiveIncident, draft_words: set[str], category: str | None) -> float:
    points = WORD_POINTS * len(draft_words & incident_terms(incident))
    if (
        category
        and category not in GENERIC_CATEGORIES
        and any(category in component_topic(c).categories for c in incident.components)
    ):
        points += CATEGORY_POINTS
    return round(min(points, 1.0), 2)


def match(
    incidents: Iterable[ActiveIncident], subject: str, body: str, category: str | None, limit: int = 3
) -> list[tuple[ActiveIncident, float]]:
    """Active incidents the draft is probably about, best first; empty when none is likely."""
    draft = words(f"{subject} {body}")
    scored = [(i, score(i, draft, category)) for i in incidents]
    hits = [(i, s) for i, s in scored if s >= THRESHOLD]
    hits.sort(key=lambda pair: -pair[1])
    return hits[:limit]


def incident_text(name: str, bodies: Sequence[str]) -> str:
    return " ".join([name, *bodies])
