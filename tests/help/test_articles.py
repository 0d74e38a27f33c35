"""Self-help articles on a real gateway, on SQLite and PostgreSQL (the search itself: tests/help/search/):
the article JSON and pages, and the deflection events and stats."""

from __future__ import annotations

import uuid

import httpx

from tests.help.conftest import auth, person


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
