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


# The pages' own words in each language (the articles carry theirs). Kept here, small, until the shared message
# catalogue of the i18n work takes them.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "help": "Help",
        "center": "Help center",
        "heading": "How can we help?",
        "placeholder": "Search help articles",
        "search": "Search",
        "results": "Results for “{query}”",
        "nothing": "No article matches. Try other words, or ask us from the support widget.",
        "updated": "updated",
        "stuck": "Still stuck? Open the support widget and tell us what you see.",
        "missing": "No such article",
        "all": "All articles",
        "read_in": "Read in English",
    },
    "vi": {
        "help": "Trợ giúp",
        "center": "Trung tâm trợ giúp",
        "heading": "Chúng tôi có thể giúp gì cho bạn?",
        "placeholder": "Tìm bài viết trợ giúp",
        "search": "Tìm",
        "results": "Kết quả cho “{query}”",
        "nothing": "Không có bài viết nào phù hợp. Hãy thử từ khác, hoặc hỏi chúng tôi qua widget hỗ trợ.",
        "updated": "cập nhật",
        "stuck": "Vẫn chưa giải quyết được? Mở widget hỗ trợ và cho chúng tôi biết bạn thấy gì.",
        "missing": "Không có bài viết này",
        "all": "Tất cả bài viết",
        "read_in": "Đọc bằng tiếng Việt",
    },
}
CATEGORIES = {
    "vi": {
        "account": "Tài khoản",
        "alerts": "Cảnh báo",
        "billing": "Thanh toán",
        "charts": "Biểu đồ",
        "data-feeds": "Nguồn dữ liệu",
        "indicators": "Chỉ báo",
        "mobile": "Ứng dụng di động",
    }
}


def words(lang: str) -> dict[str, str]:
    return STRINGS.get(lang, STRINGS["en"])


def category_name(category: str, lang: str) -> str:
    return CATEGORIES.get(lang, {}).get(category) or category.replace("-", " ").title()


def escape(value: str) -> str:
    return _escape(value, quote=True)


def _layout(title: str, content: str, lang: str) -> str:
    w = words(lang)
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · {escape(w['help'])}</title><style>{_STYLE}</style></head><body>"
        f'<header><a href="/help?lang={escape(lang)}">{escape(w["center"])}</a></header><main>{content}</main>'
        "</body></html>"
    )


def _search_form(query: str, lang: str) -> str:
    w = words(lang)
    return (
        f'<form action="/help" method="get" role="search"><input type="hidden" name="lang" value="{escape(lang)}">'
        f'<input type="search" name="q" value="{escape(query)}" placeholder="{escape(w["placeholder"])}" '
        f'aria-label="{escape(w["placeholder"])}" data-hl="help-search"> <button>{escape(w["search"])}</button></form>'
    )


def index_page(articles: Sequence[Article], lang: str, query: str = "", hits: list[ArticleHit] | None = None) -> str:
    w = words(lang)
    parts = [f"<h1>{escape(w['heading'])}</h1>", _search_form(query, lang)]
    if hits is not None:
        parts.append(f"<h2>{escape(w['results'].format(query=query))}</h2>")
        if not hits:
            parts.append(f"<p>{escape(w['nothing'])}</p>")
        parts.append('<ul data-hl="help-results">')
        for hit in hits:
            parts.append(
                f'<li lang="{escape(hit.lang)}"><a href="/help/{escape(hit.slug)}">{escape(hit.title)}</a>'
                f'<div class="snippet">{hit.snippet_html}</div></li>'
            )
        parts.append("</ul>")
    else:
        ordered = sorted(articles, key=lambda a: (a.category, a.lang != lang, a.title))
        for category, group in groupby(ordered, key=lambda a: a.category):
            parts.append(f"<h2>{escape(category_name(category, lang))}</h2><ul>")
            parts.extend(
                f'<li lang="{escape(a.lang)}"><a href="/help/{escape(a.slug)}">{escape(a.title)}</a></li>'
                for a in group
            )
            parts.append("</ul>")
    return _layout(w["center"], "".join(parts), lang)


def article_page(article: Article, translations: Sequence[Article] = ()) -> str:
    w = words(article.lang)
    tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in article.tags)
    links = "".join(
        f'<a href="/help/{escape(t.slug)}" hreflang="{escape(t.lang)}" lang="{escape(t.lang)}" '
        f'data-hl="article-translation">{escape(words(t.lang)["read_in"])}</a> '
        for t in translations
    )
    content = (
        f'<article data-hl="article" data-slug="{escape(article.slug)}" data-lang="{escape(article.lang)}">'
        f"<h1>{escape(article.title)}</h1>"
        f'<p class="meta">{escape(category_name(article.category, article.lang))} · {escape(w["updated"])} '
        f"{article.updated_at:%Y-%m-%d} {tags}</p>"
        + (f'<p class="meta">{links}</p>' if links else "")
        + f"{article.html}</article>"
        f'<p class="meta">{escape(w["stuck"])}</p>'
    )
    return _layout(article.title, content, article.lang)


def not_found_page(lang: str = "en") -> str:
    w = words(lang)
    content = (
        f"<h1>{escape(w['missing'])}</h1>"
        + _search_form("", lang)
        + f'<p><a href="/help?lang={escape(lang)}">{escape(w["all"])}</a></p>'
    )
    return _layout(w["missing"], content, lang)
