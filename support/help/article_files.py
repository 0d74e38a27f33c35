"""Self-help articles as Markdown files: front matter, trusted rendering to HTML, plain text for search.

Reads a folder and returns values; it neither indexes nor serves (see article_search.py and articles.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path

from markdown_it import MarkdownIt

log = logging.getLogger("helpline.articles")


def packaged_articles() -> Path:
    """The articles shipped in the wheel (the `articles` package). The reload watcher reads the folder's mtimes, so
    it needs a real folder: wheels install unpacked, and a zipped install is refused here rather than half served."""
    root = files("articles")
    if not isinstance(root, Path):
        raise RuntimeError(f"the articles package is not a folder on disk ({root!r}); set HELPLINE_ARTICLES_DIR")
    return root


DEFAULT_DIR = packaged_articles()
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
LANG = re.compile(r"^[a-z]{2,3}$")
MAX_FILE_BYTES = 256 * 1024

# html=False: raw HTML in a file is shown as text, never passed through; markdown-it also refuses
# javascript:/vbscript:/file: links by itself.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    category: str
    tags: tuple[str, ...]
    html: str
    text: str
    digest: str
    updated_at: datetime
    lang: str = "en"  # the language it is written in (front matter `lang`)
    translation_of: str | None = None  # the slug of the original this translates (front matter `translation_of`)
    synonyms: tuple[str, ...] = ()  # words people use for it that the text may not (front matter `synonyms`)

    @property
    def group(self) -> str:
        """The original's slug: an article and its translations share it."""
        return self.translation_of or self.slug

    @property
    def keywords(self) -> str:
        """Tags and synonyms, what search weighs between the title and the body."""
        return " ".join((*self.tags, *self.synonyms))

    @property
    def summary(self) -> str:
        first = self.text.split("\n", 1)[0]
        return first if len(first) <= 200 else first[:197].rsplit(" ", 1)[0] + " …"


class ArticleError(ValueError):
    """A file that is not a valid article; it is skipped and logged, the others still load."""


def articles_dir(configured: str | None) -> Path:
    return Path(configured) if configured else DEFAULT_DIR


def folder_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when any article file is added, removed or edited: names, mtimes and sizes."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(".md") and e.is_file()]
    except FileNotFoundError:
        return ()
    return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries))


def load_folder(folder: Path) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for path in sorted(folder.glob("*.md")):
        try:
            article = load_file(path)
        except (OSError, UnicodeDecodeError, ArticleError) as exc:
            log.warning("skipping article %s: %s", path.name, exc)
            continue
        articles[article.slug] = article
    return articles


def load_file(path: Path) -> Article:
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise ArticleError(f"larger than {MAX_FILE_BYTES} bytes")
    slug = path.stem.lower()
    if not SLUG.match(slug):
        raise ArticleError("file names must be lowercase letters, digits and dashes")
    meta, body = split_front_matter(raw.decode("utf-8"))
    title = meta.get("title", "").strip()
    if not title:
        raise ArticleError("front matter needs a title")
    tags, synonyms = _list(meta.get("tags", "")), _list(meta.get("synonyms", ""))
    lang = (meta.get("lang") or "en").strip().lower()
    if not LANG.match(lang):
        raise ArticleError("lang must be a language code such as en or vi")
    original = (meta.get("translation_of") or "").strip().lower() or None
    if original is not None and (not SLUG.match(original) or original == slug):
        raise ArticleError("translation_of must be the slug of another article")
    updated = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return Article(
        slug=slug,
        title=title[:300],
        category=(meta.get("category") or "general").strip().lower()[:64],
        tags=tags,
        html=render(body),
        text=plain_text(body),
        digest=hashlib.sha256(raw).hexdigest(),
        updated_at=updated,
        lang=lang,
        translation_of=original,
        synonyms=synonyms,
    )


def _list(value: str) -> tuple[str, ...]:
    return tuple(t.strip().lower() for t in value.strip("[]").split(",") if t.strip())


def split_front_matter(source: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the top of the file; values are strings (tags: `[a, b]` or `a, b`)."""
    lines = source.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, source
    meta: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return meta, "\n".join(lines[index + 1 :])
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    raise ArticleError("front matter is not closed by ---")


def render(markdown: str) -> str:
    return str(_markdown.render(markdown))


def plain_text(markdown: str) -> str:
    """The words a reader sees, one block per line: what search indexes and snippets quote."""
    blocks: list[str] = []
    for token in _markdown.parse(markdown):
        if token.type == "inline":
            words = [
                c.content if c.type in ("text", "code_inline") else " "
                for c in token.children or []
                if c.type in ("text", "code_inline", "softbreak", "hardbreak")
            ]
            blocks.append("".join(words).strip())
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.strip())
    return "\n".join(b for b in blocks if b)
