"""Self-help articles on a real gateway, on SQLite FTS5 and PostgreSQL full text: search ranking and snippets,
the article JSON and pages, reload when the folder changes, and the deflection events and stats."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.help.conftest import HelpGateway, auth, person


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


async def test_no_query_lists_every_article(http: httpx.AsyncClient) -> None:
    listing = (await http.get("/api/articles", params={"limit": 50})).json()["articles"]
    assert len(listing) >= 20
    assert {a["category"] for a in listing} >= {
        "charts",
        "indicators",
        "alerts",
        "data-feeds",
        "billing",
        "account",
        "mobile",
    }


async def test_an_article_comes_as_rendered_html(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/articles/plans-compared")
    assert response.status_code == 200
    article = response.json()
    assert article["title"] == "Plans compared - free, pro, pro_plus, premium"
    assert "<table>" in article["html"] and "<td>Premium</td>" not in article["html"]
    assert "<th>Premium</th>" in article["html"] and article["url"] == "/help/plans-compared"
    missing = await http.get("/api/articles/no-such-article")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_help_pages_are_server_rendered(http: httpx.AsyncClient) -> None:
    index = await http.get("/help")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "Two-factor authentication (2FA) and backup codes" in index.text
    assert 'href="/help/two-factor-authentication"' in index.text
    page = await http.get("/help/two-factor-authentication")
    assert page.status_code == 200 and "<h1>Two-factor authentication (2FA) and backup codes</h1>" in page.text
    assert "<h2>Lost your phone</h2>" in page.text
    results = await http.get("/help", params={"q": "<script>refund"})
    assert "&lt;script&gt;refund" in results.text and "<script>" not in results.text
    assert 'href="/help/refunds-and-invoices"' in results.text
    assert (await http.get("/help/nothing-here")).status_code == 404


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


async def test_suggestions_opens_and_deflections_are_counted_for_agents(http: httpx.AsyncClient) -> None:
    slug = "payment-failed"
    agent = auth(person("agnes", role="agent"))

    async def stats() -> dict[str, object]:
        response = await http.get("/api/articles/stats", headers=agent)
        assert response.status_code == 200
        return next(a for a in response.json()["articles"] if a["slug"] == slug)

    before = await stats()
    draft = uuid.uuid4().hex
    customer = auth(person("dora", "pro"))
    for kind, headers in (("suggested", {}), ("opened", customer), ("deflected", customer)):
        response = await http.post(
            f"/api/articles/{slug}/events", json={"kind": kind, "client_id": draft}, headers=headers
        )
        assert response.status_code == 201 and response.json()["counted"] is True
    again = await http.post(f"/api/articles/{slug}/events", json={"kind": "opened", "client_id": draft})
    assert again.status_code == 200 and again.json()["counted"] is False
    after = await stats()
    assert [after[k] - before[k] for k in ("suggested", "opened", "deflected")] == [1, 1, 1]  # type: ignore[operator]
    assert after["deflection_rate"] is not None

    bad_kind = await http.post(f"/api/articles/{slug}/events", json={"kind": "liked"})
    assert bad_kind.status_code == 400 and bad_kind.json()["error"]["code"] == "bad_request"
    bad_token = await http.post(
        f"/api/articles/{slug}/events", json={"kind": "opened"}, headers={"Authorization": "Bearer nope"}
    )
    assert bad_token.status_code == 401
    unknown = await http.post("/api/articles/no-such/events", json={"kind": "opened"})
    assert unknown.status_code == 404
    customers_refused = await http.get("/api/articles/stats", headers=customer)
    assert customers_refused.status_code == 403
