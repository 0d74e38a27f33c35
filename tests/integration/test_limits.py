"""Floods are refused with `rate_limited` and then a close; pages carry security headers.

Writes without a token are limited per client address, which is the forwarded one only behind a trusted proxy."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from tests.integration.conftest import token
from tests.services import Gateway, migrate, sqlite_url
from tests.wsclient import Client, hello_outcome


@pytest.fixture(scope="module")
def strict_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    url = sqlite_url(tmp_path_factory.mktemp("limits"))
    migrate(url)
    node = Gateway(
        url,
        HELPLINE_FRAME_RATE_PER_S="5",
        HELPLINE_FRAME_BURST="10",
        HELPLINE_HTTP_WRITE_RATE_PER_S="1",
        HELPLINE_HTTP_WRITE_BURST="3",
        HELPLINE_ANONYMOUS_WRITE_RATE_PER_S="0.05",
        HELPLINE_ANONYMOUS_WRITE_BURST="5",
        HELPLINE_CONNECTION_RATE_PER_S="0.05",
        HELPLINE_CONNECTION_BURST="8",
        HELPLINE_MAX_CONNECTIONS_PER_USER="2",
    ).start()
    yield node
    node.stop()


async def test_frame_flood_gets_rate_limited_then_closed(strict_gateway: Gateway) -> None:
    flood = await Client.connect(strict_gateway.ws_url, token(f"flood-{uuid.uuid4().hex[:6]}"))
    for _ in range(30):
        await flood.send({"type": "ping"})
    await flood.expect("error", code="rate_limited")
    assert len(flood.of_type("pong")) <= 12
    for _ in range(100):
        try:
            await flood.send({"type": "ping"})
        except Exception:
            break
    assert await flood.wait_closed() == 4429


async def test_too_many_connections_for_one_user_are_closed(strict_gateway: Gateway) -> None:
    t = token(f"many-{uuid.uuid4().hex[:6]}")
    first = await Client.connect(strict_gateway.ws_url, t)
    second = await Client.connect(strict_gateway.ws_url, t)
    third = await Client.connect(strict_gateway.ws_url)
    await third.send({"type": "hello", "token": t})
    assert await third.wait_closed() == 4429
    await first.close()
    fourth = await Client.connect(strict_gateway.ws_url, t)  # a slot was freed
    await second.close()
    await fourth.close()


async def test_http_writes_are_rate_limited(strict_gateway: Gateway) -> None:
    t = token(f"writer-{uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=strict_gateway.url) as http:
        codes = [
            (
                await http.post(
                    "/api/tickets", headers={"Authorization": f"Bearer {t}"}, json={"subject": "s", "body": "b"}
                )
            ).status_code
            for _ in range(6)
        ]
        assert codes[:3] == [201, 201, 201] and 429 in codes[3:]
        limited = await http.post(
            "/api/tickets", headers={"Authorization": f"Bearer {t}"}, json={"subject": "s", "body": "b"}
        )
        assert limited.json()["error"]["code"] == "rate_limited"
        # Reading is not limited by the write budget.
        assert (await http.get("/api/tickets", headers={"Authorization": f"Bearer {t}"})).status_code == 200


def anonymous_events(http: httpx.Client, count: int, forwarded_for: str | None = None) -> list[httpx.Response]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [
        http.post(
            "/api/articles/payment-failed/events",
            headers=headers,
            json={"kind": "deflected", "client_id": uuid.uuid4().hex},
        )
        for _ in range(count)
    ]


def address() -> str:
    """A fresh caller (documentation IPv6 space) per test, so tests on the module's gateway do not share budgets."""
    suffix = uuid.uuid4().hex
    return f"2001:db8::{suffix[:4]}:{suffix[4:8]}"


def test_anonymous_article_events_are_limited_per_address(strict_gateway: Gateway) -> None:
    with httpx.Client(base_url=strict_gateway.url) as http:
        responses = anonymous_events(http, 12, address())
    assert [r.status_code for r in responses[:5]] == [201] * 5
    refused = responses[5:]
    assert {r.status_code for r in refused} == {429}
    assert refused[0].json()["error"]["code"] == "rate_limited"
    assert refused[0].json()["error"]["message"]
    assert int(refused[0].headers["retry-after"]) >= 1


def test_writes_with_no_token_or_a_bad_one_spend_the_address_budget(strict_gateway: Gateway) -> None:
    caller = address()
    with httpx.Client(base_url=strict_gateway.url, headers={"X-Forwarded-For": caller}) as http:
        codes = [http.post("/api/tickets", json={"subject": "s", "body": "b"}).status_code for _ in range(3)]
        codes += [
            http.post(
                "/api/tickets",
                headers={"Authorization": "Bearer forged.token.here"},
                json={"subject": "s", "body": "b"},
            ).status_code
            for _ in range(3)
        ]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        assert anonymous_events(http, 1)[0].status_code == 429  # one budget for every write of the address
        # A signed-in user from the same address spends their own budget.
        ok = http.post(
            "/api/tickets",
            headers={"Authorization": f"Bearer {token(f'u-{uuid.uuid4().hex[:6]}')}"},
            json={"subject": "s", "body": "b"},
        )
        assert ok.status_code == 201


def test_clients_behind_a_trusted_proxy_are_limited_separately(strict_gateway: Gateway) -> None:
    """The test client connects from 127.0.0.1, the default trusted proxy: X-Forwarded-For names the client."""
    first, second = address(), address()
    with httpx.Client(base_url=strict_gateway.url) as http:
        assert [r.status_code for r in anonymous_events(http, 6, first)][-1] == 429
        assert [r.status_code for r in anonymous_events(http, 5, second)] == [201] * 5


async def open_connection(ws_url: str, forwarded_for: str) -> int | str:
    return await hello_outcome(ws_url, token(f"c-{uuid.uuid4().hex[:6]}"), forwarded_for)


async def test_new_connections_from_one_address_are_rate_limited(strict_gateway: Gateway) -> None:
    caller = address()
    outcomes = [await open_connection(strict_gateway.ws_url, caller) for _ in range(10)]
    assert outcomes == ["welcome"] * 8 + [4429] * 2
    assert await open_connection(strict_gateway.ws_url, address()) == "welcome"  # another address is not held up


@pytest.fixture(scope="module")
def untrusting_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    url = sqlite_url(tmp_path_factory.mktemp("untrusting"))
    migrate(url)
    node = Gateway(
        url,
        FORWARDED_ALLOW_IPS="192.0.2.10",  # the load balancer is elsewhere: loopback is a client
        HELPLINE_ANONYMOUS_WRITE_RATE_PER_S="0.05",
        HELPLINE_ANONYMOUS_WRITE_BURST="5",
    ).start()
    yield node
    node.stop()


def test_an_untrusted_peer_cannot_choose_its_address(untrusting_gateway: Gateway) -> None:
    with httpx.Client(base_url=untrusting_gateway.url) as http:
        codes = [anonymous_events(http, 1, address())[0].status_code for _ in range(8)]
    assert codes[:5] == [201] * 5 and set(codes[5:]) == {429}


@pytest.mark.parametrize("path", ["/", "/dashboard", "/api/tickets", "/healthz"])
def test_security_headers_on_every_page(strict_gateway: Gateway, path: str) -> None:
    response = httpx.get(strict_gateway.url + path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "object-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/widget.js", "/widget/embed/app.js", "/widget/pages.css"])
def test_scripts_and_styles_carry_no_document_headers(strict_gateway: Gateway, path: str) -> None:
    response = httpx.get(strict_gateway.url + path)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # CSP and framing govern documents: on each module of the widget they were only bytes on the wire.
    assert "content-security-policy" not in response.headers
    assert "x-frame-options" not in response.headers


def test_support_tab_may_be_framed_by_the_app_only(strict_gateway: Gateway) -> None:
    response = httpx.get(strict_gateway.url + "/support")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
