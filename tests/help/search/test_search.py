"""Article search on every engine (SQLite FTS5, PostgreSQL, in memory) through a real gateway: the article about
the topic ranks first with the term in its snippet, the word being typed matches as a prefix, query syntax is only
words, and the index follows the folder when a file is added, edited or removed."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.help.conftest import HelpGateway


@pytest.mark.parametrize(
    ("query", "slug", "term"),
    [
        ("candlestick", "chart-types-candlesticks-heikin-ashi", "candlestick"),
        ("two factor backup codes", "two-factor-authentication", "backup codes"),
        ("refund", "refunds-and-invoices", "refund"),
        ("webhook", "alert-notifications-webhooks", "webhook"),
        ("why is my chart data delayed", "real-time-vs-delayed-data", "delayed"),
        ("fibonacci retracement", "drawing-tools-trendlines", "fibonacci"),
    ],
)
async def test_the_article_about_the_topic_ranks_first_with_the_term_in_its_snippet(
    http: httpx.AsyncClient, query: str, slug: str, term: str
) -> None:
    response = await http.get("/api/articles", params={"q": query})
    assert response.status_code == 200
    hits = response.json()["articles"]
    assert hits and hits[0]["slug"] == slug, [h["slug"] for h in hits]
    assert set(hits[0]) >= {"slug", "title", "category", "snippet", "score"}
    assert term in hits[0]["snippet"].lower()
    assert "<mark>" in hits[0]["snippet_html"] and "<mark>" not in hits[0]["snippet"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


async def test_the_word_being_typed_matches_as_a_prefix(http: httpx.AsyncClient) -> None:
    hits = (await http.get("/api/articles", params={"q": "authentica"})).json()["articles"]
    assert hits[0]["slug"] == "two-factor-authentication"
    finished = (await http.get("/api/articles", params={"q": "authentica "})).json()["articles"]
    assert finished == []  # a finished word is a whole word: "authentica" is none


async def test_search_syntax_in_a_query_is_only_words(http: httpx.AsyncClient) -> None:
    for query in ['"unbalanced', "alert* OR NEAR(", "'; drop table help_articles; --", "&|!:*()", "the of and"]:
        response = await http.get("/api/articles", params={"q": query})
        assert response.status_code == 200, (query, response.text)
    assert (await http.get("/api/articles", params={"q": "alert* OR NEAR("})).json()["articles"]


async def _until(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the change was not picked up")
        await asyncio.sleep(0.2)


async def test_articles_reload_when_the_folder_changes(gateway: HelpGateway, http: httpx.AsyncClient) -> None:
    slug = f"zz-reload-{uuid.uuid4().hex[:6]}"
    path = gateway.articles_dir / f"{slug}.md"

    async def hits(query: str) -> list[str]:
        return [h["slug"] for h in (await http.get("/api/articles", params={"q": query})).json()["articles"]]

    try:
        path.write_text(
            "---\ntitle: Quokkaflux gauges\ncategory: charts\ntags: [quokkaflux]\n---\n"
            "The quokkaflux gauge <script>alert(1)</script> shows [flow](javascript:alert(1)).\n"
        )
        await _until(lambda: _contains(hits("quokkaflux"), slug))
        article = (await http.get(f"/api/articles/{slug}")).json()
        assert "<script>" not in article["html"] and "&lt;script&gt;" in article["html"]
        assert 'href="javascript:' not in article["html"]

        path.write_text("---\ntitle: Wallabyzoom meters\ncategory: charts\n---\nThe wallabyzoom meter replaced it.\n")
        await _until(lambda: _contains(hits("wallabyzoom"), slug))
        assert slug not in await hits("quokkaflux")
        assert (await http.get(f"/api/articles/{slug}")).json()["title"] == "Wallabyzoom meters"
    finally:
        path.unlink(missing_ok=True)
    await _until(lambda: _gone(http, slug))
    assert slug not in await hits("wallabyzoom")


async def _contains(hits, slug: str) -> bool:  # type: ignore[no-untyped-def]
    return slug in await hits


async def _gone(http: httpx.AsyncClient, slug: str) -> bool:
    return (await http.get(f"/api/articles/{slug}")).status_code == 404
