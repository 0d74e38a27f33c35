"""The words of a help search, the same for every engine (SQLite FTS5, PostgreSQL, in memory): folding, stemming,
stop words in English and Vietnamese, completing the word being typed, correcting typos against the articles'
own vocabulary, and quoting a snippet with the matched words marked. Pure functions and values; no I/O.

Why here and not in each engine: the engines differ in how they rank, but a query must mean the same words on all
three, so the expansion (completions, typo corrections) is computed once from the articles and handed to them.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from support.help.article_files import Article

MAX_TERMS = 8
MAX_COMPLETIONS = 12
MAX_CORRECTIONS = 3
SNIPPET_WORDS = 24
WORD = re.compile(r"[^\W_]+")

# Folded (no diacritics) so "tôi" and "toi" are both dropped. Vietnamese: pronouns, particles and the commonest
# function words; "không" (not) stays, it carries meaning ("không kích hoạt": did not fire).
STOPWORDS = frozenset(
    (
        "a an and are as at be but by can do does for from how i if in into is it me my of on or so that the their "
        "this to was what when where which who why will with you your am want need get got im"
    ).split()
    + (
        "toi minh em anh chi ban cua la va co thi duoc cho voi nhung cac mot nay do lam sao the nao gi oi vay nhe "
        "bi khi muon hay chung roi da dang se ra vao rat cung nen phai"
    ).split()
)

_porter = snowballstemmer.stemmer("porter")  # the algorithm of SQLite's FTS5 `porter` tokenizer


def fold(text: str) -> str:
    """Lower case without diacritics: "Đăng nhập" → "dang nhap". đ is a letter of its own in Unicode (no
    decomposition), so it is mapped by hand, as PostgreSQL's unaccent rules do."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_d(text: str) -> str:
    """Only đ → d: what SQLite's remove_diacritics cannot do (the other marks it removes itself)."""
    return text.replace("đ", "d").replace("Đ", "D")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of a folded word, as FTS5's porter tokenizer computes it."""
    return str(_porter.stemWord(word))


def words(text: str) -> list[str]:
    """Folded words of a text, in order."""
    return WORD.findall(fold(text))


def search_terms(query: str) -> tuple[list[str], bool]:
    """The query's folded words (letters and digits only, so no search syntax gets through) without stop words,
    and whether the last one is still being typed (no trailing space): it then also matches as a prefix."""
    found = [w for w in words(query) if w not in STOPWORDS and len(w) <= 40]
    return found[:MAX_TERMS], bool(found) and not query[-1:].isspace() and len(found[-1]) >= 2


def typo_budget(word: str) -> int:
    """How many edits a word may carry and still be recognised: none under 4 letters (too many neighbours)."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


@dataclass
class Vocabulary:
    """Every folded word of the indexed articles (titles, tags, synonyms, bodies), with their stems."""

    sorted_words: list[str] = field(default_factory=list)
    known: frozenset[str] = frozenset()
    stems: frozenset[str] = frozenset()

    @classmethod
    def of(cls, texts: Iterable[str]) -> "Vocabulary":
        known = frozenset(w for t in texts for w in words(t) if len(w) <= 40)
        return cls(sorted(known), known, frozenset(stem(w) for w in known))

    @classmethod
    def of_articles(cls, articles: Iterable[Article]) -> "Vocabulary":
        return cls.of(t for a in articles for t in (a.title, a.keywords, a.text))

    def completions(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self.sorted_words, prefix)
        found = []
        for word in self.sorted_words[start : start + MAX_COMPLETIONS]:
            if not word.startswith(prefix):
                break
            found.append(word)
        return found

    def corrections(self, word: str) -> list[str]:
        """Words of the articles within the typo budget of a word they do not contain ("refnd" → "refund")."""
        budget = typo_budget(word)
        if not budget or word in self.known or stem(word) in self.stems or word.isdigit():
            return []
        found = process.extract(
            word, self.sorted_words, scorer=Levenshtein.distance, score_cutoff=budget, limit=MAX_CORRECTIONS
        )
        return [candidate for candidate, _distance, _index in found]

    def alternatives(self, query: str) -> list[list[str]]:
        """Per query word, the folded words that may match it: itself, its typo corrections, and its completions
        when it is still being typed."""
        terms, typing = search_terms(query)
        groups = []
        for position, term in enumerate(terms):
            group = [term, *self.corrections(term)]
            # The word being typed is completed, unless it ends a sentence already and is a whole word of the
            # articles: "I want my money back" means back, not backup.
            if typing and position == len(terms) - 1 and (len(terms) == 1 or term not in self.known):
                group += self.completions(term)
            groups.append(list(dict.fromkeys(group)))
        return groups


def flat_terms(groups: Sequence[Sequence[str]]) -> list[str]:
    return list(dict.fromkeys(w for group in groups for w in group))


def snippet(text: str, stems: frozenset[str], size: int = SNIPPET_WORDS) -> tuple[str, str]:
    """(plain text, safe HTML with <mark>) of the window of `size` words of `text` holding the most words whose
    stem is in `stems`; the opening words when none matches."""
    spans = [(m.start(), m.end(), stem(fold(m.group()))) for m in WORD.finditer(text)]
    if not spans:
        return "", ""
    hits = [index for index, (_s, _e, word_stem) in enumerate(spans) if word_stem in stems]
    first = 0
    if hits:
        best = max(range(len(hits)), key=lambda i: bisect.bisect_left(hits, hits[i] + size) - i)
        first = max(0, min(hits[best] - 3, len(spans) - size))
    last = min(len(spans), first + size) - 1
    begin, end = spans[first][0], spans[last][1]
    plain, marked = [], []
    cursor = begin
    for start, stop, word_stem in spans[first : last + 1]:
        between = text[cursor:start]
        plain.append(between)
        marked.append(html.escape(between))
        word = text[start:stop]
        plain.append(word)
        marked.append(f"<mark>{html.escape(word)}</mark>" if word_stem in stems else html.escape(word))
        cursor = stop
    lead = "… " if begin > 0 else ""
    tail = " …" if end < len(text) else ""
    flat = " ".join("".join(plain).split())
    safe = " ".join("".join(marked).split())
    return f"{lead}{flat}{tail}", f"{lead}{safe}{tail}"


def query_stems(groups: Sequence[Sequence[str]]) -> frozenset[str]:
    return frozenset(stem(w) for w in flat_terms(groups))
