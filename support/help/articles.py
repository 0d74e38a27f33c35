"""Self-help articles: the loaded folder (reloaded when a file changes), search, article events and stats,
and their HTTP routes (/api/articles…, /help…). Reading articles needs no token.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response


from support.help import pages, search_text
from support.web.http import endpoint, identify, int_param, json_response, read_body
from support.help.article_files import Article, articles_dir, folder_signature, load_folder
from support.help.ports import ArticleEvents, ArticleHit, ArticleIndex
from support.core.i18n import DEFAULT_LANGUAGE, negotiate, supported
from support.core.tokens import Identity
from support.core.clock import iso, utcnow
from support.web.openapi import Operation, Param, api_routes
from support.core.model import ClientId
from support.core.settings import Settings
from support.core.errors import TicketError

QUERY_MAX = 200  # characters of a search
log = logging.getLogger("helpline.articles")
EVENT_KINDS = ("suggested", "opened", "deflected")


class ArticleEventBody(msgspec.Struct, forbid_unknown_fields=False):
    kind: Literal["suggested", "opened", "deflected"]
    client_id: ClientId | None = None


class ArticleList(msgspec.Struct):
    articles: list[ArticleHit]


class Translation(msgspec.Struct):
    lang: str
    slug: str
    title: str
    url: str


class ArticleView(msgspec.Struct):
    slug: str
    title: str
    category: str
    tags: list[str]
    html: str  # rendered from trusted Markdown with raw HTML disabled
    updated_at: str
    url: str
    lang: str = "en"
    translations: list[Translation] = []  # the same article in the other languages


class ArticleEventResult(msgspec.Struct):
    slug: str
    kind: str
    counted: bool  # false: this (slug, kind, client_id) was counted before


class ArticleStats(msgspec.Struct):
    slug: str
    title: str
    suggested: int
    opened: int
    deflected: int
    deflection_rate: float | None  # deflected / opened; None before anyone opened it


class ArticleStatsList(msgspec.Struct):
    articles: list[ArticleStats]


class HelpCenter:
    """The articles of one node: held in memory for pages, mirrored into the search index for search.

    A poll of the folder's mtimes (every articles_poll_s) reloads it on change: no extra daemon, and
    every node converges on its own folder."""

    def __init__(self, settings: Settings, index: ArticleIndex, events: ArticleEvents) -> None:
        self.folder: Path = articles_dir(settings.articles_dir)
        self.poll_s = settings.articles_poll_s
        self.index, self.events = index, events
        self.articles: dict[str, Article] = {}
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self.reload()
        except Exception:
            # A missing table (unmigrated database) must not keep the gateway down; the poll retries.
            log.exception("loading articles failed; retrying every %.1f s", self.poll_s)
            self._signature = None
        self._task = asyncio.create_task(self._watch(), name="articles-watch")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def reload(self, force: bool = False) -> bool:
        signature = await asyncio.to_thread(folder_signature, self.folder)
        if signature == self._signature and not force:
            return False
        articles = await asyncio.to_thread(load_folder, self.folder)
        await self.index.sync(list(articles.values()))
        self.articles, self._signature = articles, signature
        log.info("loaded %d articles from %s", len(articles), self.folder)
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.reload()
            except Exception:
                log.exception("reloading articles failed")

    def get(self, slug: str) -> Article:
        article = self.articles.get(slug)
        if article is None:
            raise TicketError("not_found", "no such article")
        return article

    def translations(self, article: Article) -> list[Article]:
        """The other languages' versions of an article (its original and the original's other translations)."""
        return sorted(
            (a for a in self.articles.values() if a.group == article.group and a.slug != article.slug),
            key=lambda a: a.lang,
        )

    def in_language(self, article: Article, lang: str) -> Article:
        """The article in `lang` when it has that translation, else itself."""
        if article.lang == lang:
            return article
        return next((a for a in self.translations(article) if a.lang == lang), article)

    def shown(self, lang: str) -> list[Article]:
        """One version of each article, in `lang` where it exists, else in the language it was written in."""
        groups: dict[str, Article] = {}
        for a in sorted(self.articles.values(), key=lambda a: (a.lang != lang, a.translation_of is not None)):
            groups.setdefault(a.group, a)
        return list(groups.values())

    def listing(self, lang: str = DEFAULT_LANGUAGE) -> list[ArticleHit]:
        ordered = sorted(self.shown(lang), key=lambda a: (a.category, a.lang != lang, a.title))
        return [
            ArticleHit(a.slug, a.title, a.category, a.summary, pages.escape(a.summary), 0.0, a.lang) for a in ordered
        ]

    async def search(self, query: str, lang: str, limit: int) -> list[ArticleHit]:
        """The best articles for a query, each once (an article and its translations are one answer), shown in
        `lang` where translated; the ones in `lang` first, then those only written in another language."""
        raw = await self.index.search(query, limit * 2 + 4)  # room for the translations folded away
        stems = search_text.query_stems([[w] for w in search_text.search_terms(query)[0]])
        seen: set[str] = set()
        results: list[ArticleHit] = []
        for hit in raw:
            article = self.articles.get(hit.slug)
            if article is None or article.group in seen:
                continue  # the index has not caught up with a removal yet, or this answer is already there
            seen.add(article.group)
            shown = self.in_language(article, lang)
            if shown is article:
                results.append(msgspec.structs.replace(hit, lang=article.lang))
                continue
            plain, safe = search_text.snippet(shown.text, stems)
            results.append(ArticleHit(shown.slug, shown.title, shown.category, plain, safe, hit.score, shown.lang))
        results.sort(key=lambda h: h.lang != lang)  # stable: best first within each language
        return results[:limit]

    async def record(self, slug: str, kind: str, who: Identity | None, client_id: str | None) -> bool:
        """Count one event; the same client_id for the same article and kind counts once."""
        self.get(slug)
        return await self.events.record(slug, kind, who.id if who else None, client_id, utcnow())

    async def stats(self) -> list[ArticleStats]:
        counts = await self.events.counts()
        result = []
        for slug in sorted(self.articles.keys() | counts.keys()):
            c = counts.get(slug, {})
            article = self.articles.get(slug)
            opened, deflected = c.get("opened", 0), c.get("deflected", 0)
            result.append(
                ArticleStats(
                    slug,
                    article.title if article else slug,
                    c.get("suggested", 0),
                    opened,
                    deflected,
                    round(deflected / opened, 4) if opened else None,
                )
            )
        result.sort(key=lambda s: (-s.deflected, -s.opened, -s.suggested, s.slug))
        return result


def help_center(request: Request) -> HelpCenter:
    center: HelpCenter = request.app.state.help
    return center


def optional_identity(request: Request) -> Identity | None:
    """Anyone may read articles; a token, when one is sent, must still be valid."""
    return identify(request) if request.headers.get("authorization") else None


def reader_language(request: Request) -> tuple[str, str]:
    """(the reader's language, the `?lang=` its links keep): token `locale` claim > ?lang= > Accept-Language."""
    who = optional_identity(request)
    lang_param = supported(request.query_params.get("lang")) or ""
    return negotiate(who.locale if who else None, lang_param, request.headers.get("accept-language")), lang_param


def search_words(request: Request) -> str:
    """The `q` of a search, refused (400) over its documented maxLength rather than cut short."""
    query = request.query_params.get("q", "")
    if len(query) > QUERY_MAX:
        raise TicketError("bad_request", f"q is limited to {QUERY_MAX} characters")
    return query


@endpoint
async def search_articles(request: Request) -> Response:
    center = help_center(request)
    query = search_words(request)
    limit = int_param(request, "limit", 8, 1, 50)
    lang, _ = reader_language(request)
    hits = await center.search(query, lang, limit) if query.strip() else center.listing(lang)[:limit]
    return json_response(ArticleList(hits))


@endpoint
async def article_stats(request: Request) -> Response:
    if not identify(request).is_staff:
        raise TicketError("forbidden", "article statistics are for agents")
    return json_response(ArticleStatsList(await help_center(request).stats()))


@endpoint
async def get_article(request: Request) -> Response:
    center = help_center(request)
    a = center.get(request.path_params["slug"])
    others = [Translation(o.lang, o.slug, o.title, f"/help/{o.slug}") for o in center.translations(a)]
    view = ArticleView(
        a.slug, a.title, a.category, list(a.tags), a.html, iso(a.updated_at) or "", f"/help/{a.slug}", a.lang, others
    )
    return json_response(view)


@endpoint
async def article_event(request: Request) -> Response:
    who = optional_identity(request)
    body: ArticleEventBody = await read_body(request, ArticleEventBody)
    counted = await help_center(request).record(request.path_params["slug"], body.kind, who, body.client_id)
    return json_response(ArticleEventResult(request.path_params["slug"], body.kind, counted), 201 if counted else 200)


@endpoint
async def help_index(request: Request) -> Response:
    center = help_center(request)
    query = search_words(request)
    language, lang_param = reader_language(request)
    hits = await center.search(query, language, 20) if query.strip() else None
    page = pages.index_page(center.shown(language), query, hits, language, lang_param)
    return HTMLResponse(page, headers=pages.LANGUAGE_HEADERS)


@endpoint  # checks a token when one is sent: its `locale` claim chooses the page's language
async def help_article(request: Request) -> Response:
    center = help_center(request)
    article = center.articles.get(request.path_params["slug"])
    language, lang_param = reader_language(request)
    if article is None:
        return HTMLResponse(pages.not_found_page(language, lang_param), status_code=404, headers=pages.LANGUAGE_HEADERS)
    page = pages.article_page(article, language, lang_param, center.translations(article))
    return HTMLResponse(page, headers=pages.LANGUAGE_HEADERS)


_QUERY = Param("q", Annotated[str, msgspec.Meta(max_length=QUERY_MAX)], "search words; the last one may be unfinished")
_LANG = Param("lang", str, "the reader's language (en, vi) when the token has no locale; else Accept-Language")
routes = api_routes(
    (
        search_articles,
        Operation(
            "GET",
            "/api/articles",
            "Search the help articles (or list them all without q)",
            auth="none",
            response=ArticleList,
            tag="help",
            query=(_QUERY, Param("limit", Annotated[int, msgspec.Meta(ge=1, le=50)], "at most (default 8)"), _LANG),
            description="Best first, each article once, in the reader's language where translated (those first); "
            "`snippet` is plain text, `snippet_html` the same escaped with <mark>.",
        ),
    ),
    (
        article_stats,
        Operation(
            "GET",
            "/api/articles/stats",
            "Suggestions, opens and deflections per article (agents)",
            auth="staff",
            response=ArticleStatsList,
            tag="help",
        ),
    ),
    (
        get_article,
        Operation(
            "GET",
            "/api/articles/{slug}",
            "One article, its HTML rendered from trusted Markdown",
            auth="none",
            response=ArticleView,
            tag="help",
        ),
    ),
    (
        article_event,
        Operation(
            "POST",
            "/api/articles/{slug}/events",
            "Count a suggestion, an open or a deflection",
            auth="none",
            request=ArticleEventBody,
            response=ArticleEventResult,
            status=201,
            also=(200,),
            tag="help",
            description="A token is optional; the same client_id for the same article and kind counts once.",
        ),
    ),
    (
        help_index,
        Operation(
            "GET",
            "/help",
            "The help center page (with ?q= the search results)",
            auth="none",
            media_type="text/html",
            query=(_QUERY, _LANG),
            tag="pages",
        ),
    ),
    (
        help_article,
        Operation(
            "GET",
            "/help/{slug}",
            "One help article's page (with links to its translations)",
            auth="none",
            media_type="text/html",
            query=(_LANG,),
            tag="pages",
        ),
    ),
)
