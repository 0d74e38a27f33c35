"""Floods are refused with `rate_limited` and then a close; pages carry security headers."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from tests.integration.conftest import token
from tests.services import Gateway, migrate, sqlite_url
from tests.wsclient import Client


@pytest.fixture(scope="module")
def strict_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    url = sqlite_url(tmp_path_factory.mktemp("limits"))
    migrate(url)
    node = Gateway(url, HELPLINE_FRAME_RATE_PER_S="5", HELPLINE_FRAME_BURST="10",
                   HELPLINE_HTTP_WRITE_RATE_PER_S="1", HELPLINE_HTTP_WRITE_BURST="3",
                   HELPLINE_MAX_CONNECTIONS_PER_USER="2").start()
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
        codes = [(await http.post("/api/tickets", headers={"Authorization": f"Bearer {t}"},
                                  json={"subject": "s", "body": "b"})).status_code for _ in range(6)]
        assert codes[:3] == [201, 201, 201] and 429 in codes[3:]
        limited = await http.post("/api/tickets", headers={"Authorization": f"Bearer {t}"},
                                  json={"subject": "s", "body": "b"})
        assert limited.json()["error"]["code"] == "rate_limited"
        # Reading is not limited by the write budget.
        assert (await http.get("/api/tickets", headers={"Authorization": f"Bearer {t}"})).status_code == 200


@pytest.mark.parametrize("path", ["/", "/dashboard", "/api/tickets", "/healthz"])
def test_security_headers_on_every_page(strict_gateway: Gateway, path: str) -> None:
    response = httpx.get(strict_gateway.url + path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "object-src 'none'" in response.headers["content-security-policy"]


def test_support_tab_may_be_framed_by_the_app_only(strict_gateway: Gateway) -> None:
    response = httpx.get(strict_gateway.url + "/support")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
