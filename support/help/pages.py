"""Server-rendered help pages: the index with search (/help) and one article (/help/{slug}).

Article bodies are HTML rendered from our own Markdown with raw HTML disabled; everything else is escaped here.
"""

from __future__ import annotations

from html import escape as _escape
from itertools import groupby
from typing import Sequence

from support.help.article_files import Article
from support.help.ports import ArticleHit

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

_STYLE = """
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#12161c;color:#fff;padding:14px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:760px;margin:24px auto;padding:0 24px 48px;background:#fff;border-radius:8px;padding:24px 32px}
h1{font-size:1.7em;margin-top:0}.meta{color:#5b6470;font-size:.9em}.tag{background:#eef1f5;border-radius:4px;
padding:1px 6px;margin-right:4px}code{background:#eef1f5;padding:1px 4px;border-radius:3px}
pre{background:#eef1f5;padding:12px;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #d5dae1;
padding:4px 8px}mark{background:#fff1a8}form{margin:0 0 20px}input[type=search]{width:70%;padding:8px;
font-size:1em}button{padding:8px 14px;font-size:1em}li{margin:4px 0}.snippet{color:#444;font-size:.92em}
"""


def escape(value: str) -> str:
    return _escape(value, quote=True)


def _layout(title: str, content: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · Help</title><style>{_STYLE}</style></head><body>"
        f'<header><a href="/help">Help center</a></header><main>{content}</main></body></html>'
    )


def _search_form(query: str) -> str:
    return (
        f'<form action="/help" method="get" role="search"><input type="search" name="q" '
        f'value="{escape(query)}" placeholder="Search help articles" data-hl="help-search"> '
        f"<button>Search</button></form>"
    )


def index_page(articles: Sequence[Article], query: str = "", hits: list[ArticleHit] | None = None) -> str:
    parts = ["<h1>How can we help?</h1>", _search_form(query)]
    if hits is not None:
        parts.append(f"<h2>Results for “{escape(query)}”</h2>")
        if not hits:
            parts.append("<p>No article matches. Try other words, or ask us from the support widget.</p>")
        parts.append('<ul data-hl="help-results">')
        for hit in hits:
            parts.append(
                f'<li><a href="/help/{escape(hit.slug)}">{escape(hit.title)}</a>'
                f'<div class="snippet">{hit.snippet_html}</div></li>'
            )
        parts.append("</ul>")
    else:
        ordered = sorted(articles, key=lambda a: (a.category, a.title))
        for category, group in groupby(ordered, key=lambda a: a.category):
            parts.append(f"<h2>{escape(category.replace('-', ' ').title())}</h2><ul>")
            parts.extend(f'<li><a href="/help/{escape(a.slug)}">{escape(a.title)}</a></li>' for a in group)
            parts.append("</ul>")
    return _layout("Help center", "".join(parts))


def article_page(article: Article) -> str:
    tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in article.tags)
    content = (
        f'<article data-hl="article" data-slug="{escape(article.slug)}"><h1>{escape(article.title)}</h1>'
        f'<p class="meta">{escape(article.category)} · updated {article.updated_at:%Y-%m-%d} {tags}</p>'
        f"{article.html}</article>"
        f'<p class="meta">Still stuck? Open the support widget and tell us what you see.</p>'
    )
    return _layout(article.title, content)


def not_found_page() -> str:
    content = "<h1>No such article</h1>" + _search_form("") + '<p><a href="/help">All articles</a></p>'
    return _layout("Not found", content)
