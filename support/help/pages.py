"""Server-rendered help pages: the index with search (/help) and one article (/help/{slug}).

Article bodies are HTML rendered from our own Markdown with raw HTML disabled; everything else is escaped here.
"""

from __future__ import annotations

from html import escape as _escape
from itertools import groupby
from typing import Sequence

from babel.dates import format_date

from support.core.i18n import message
from support.help.article_files import Article
from support.help.ports import ArticleHit

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# The page's language follows Accept-Language when neither the token nor ?lang= chose it: caches must know.
LANGUAGE_HEADERS = {**HEADERS, "Vary": "Accept-Language"}

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


def _link(path: str, lang_param: str) -> str:
    """A help centre link that keeps an explicit `?lang=` (a reader who chose a language keeps it)."""
    return escape(f"{path}?lang={lang_param}" if lang_param else path)


def _layout(title: str, content: str, language: str, lang_param: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(message(language, 'help.pageTitle', {'title': title}))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<header><a href="{_link("/help", lang_param)}">{escape(message(language, "help.title"))}</a></header>'
        f"<main>{content}</main></body></html>"
    )


def _search_form(query: str, language: str, lang_param: str) -> str:
    keep = f'<input type="hidden" name="lang" value="{escape(lang_param)}">' if lang_param else ""
    return (
        f'<form action="/help" method="get" role="search"><input type="search" name="q" '
        f'value="{escape(query)}" placeholder="{escape(message(language, "help.searchPlaceholder"))}" '
        f'data-hl="help-search">{keep} <button>{escape(message(language, "help.search"))}</button></form>'
    )


def category_name(category: str, language: str) -> str:
    """A category's words in the reader's language; a category the catalogue does not know yet reads as its slug."""
    try:
        return message(language, f"help.category.{category}")
    except KeyError:
        return category.replace("-", " ").title()


def index_page(
    articles: Sequence[Article],
    query: str = "",
    hits: list[ArticleHit] | None = None,
    language: str = "en",
    lang_param: str = "",
) -> str:
    """`language` is the reader's (support.core.i18n.negotiate); `lang_param` the `?lang=` the links keep."""
    parts = [f"<h1>{escape(message(language, 'help.heading'))}</h1>", _search_form(query, language, lang_param)]
    if hits is not None:
        parts.append(f"<h2>{escape(message(language, 'help.resultsFor', {'query': query}))}</h2>")
        if not hits:
            parts.append(f"<p>{escape(message(language, 'help.noMatch'))}</p>")
        parts.append('<ul data-hl="help-results">')
        for hit in hits:
            parts.append(
                f'<li lang="{escape(hit.lang)}"><a href="{_link("/help/" + hit.slug, lang_param)}">'
                f"{escape(hit.title)}</a>"
                f'<div class="snippet">{hit.snippet_html}</div></li>'
            )
        parts.append("</ul>")
    else:
        ordered = sorted(articles, key=lambda a: (a.category, a.title))
        for category, group in groupby(ordered, key=lambda a: a.category):
            parts.append(f"<h2>{escape(category_name(category, language))}</h2><ul>")
            parts.extend(
                f'<li lang="{escape(a.lang)}"><a href="{_link("/help/" + a.slug, lang_param)}">{escape(a.title)}</a></li>'
                for a in group
            )
            parts.append("</ul>")
    return _layout(message(language, "help.title"), "".join(parts), language, lang_param)


def translation_links(translations: Sequence[Article]) -> str:
    """A link to each other language's version, worded in that language (a reader who cannot read this page
    still recognises their own)."""
    links = "".join(
        f'<a href="/help/{escape(t.slug)}?lang={escape(t.lang)}" hreflang="{escape(t.lang)}" lang="{escape(t.lang)}" '
        f'data-hl="article-translation">{escape(message(t.lang, "help.readInThisLanguage"))}</a> '
        for t in translations
    )
    return f'<p class="meta">{links.strip()}</p>' if links else ""


def article_page(
    article: Article, language: str = "en", lang_param: str = "", translations: Sequence[Article] = ()
) -> str:
    """The article as written (in its own `lang`, with links to its translations); the chrome around it
    (category, date, hints) in the reader's language."""
    tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in article.tags)
    updated = format_date(article.updated_at, format="medium", locale=language)
    content = (
        f'<article data-hl="article" data-slug="{escape(article.slug)}" lang="{escape(article.lang)}">'
        f"<h1>{escape(article.title)}</h1>"
        f'<p class="meta" lang="{language}">{escape(category_name(article.category, language))} · '
        f"{escape(message(language, 'help.updated', {'date': updated}))} {tags}</p>"
        f"{translation_links(translations)}{article.html}</article>"
        f'<p class="meta">{escape(message(language, "help.stillStuck"))}</p>'
    )
    return _layout(article.title, content, language, lang_param)


def not_found_page(language: str = "en", lang_param: str = "") -> str:
    content = (
        f"<h1>{escape(message(language, 'help.noSuchArticle'))}</h1>"
        + _search_form("", language, lang_param)
        + f'<p><a href="{_link("/help", lang_param)}">{escape(message(language, "help.allArticles"))}</a></p>'
    )
    return _layout(message(language, "help.notFoundTitle"), content, language, lang_param)
