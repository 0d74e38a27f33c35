"""No admin for the asking: `GET /demo/tokens` answers only under `helpline up` with a secret it generated itself,
and only to a client on this machine asking under a loopback name; everyone else gets 404.

docs/security.md ("Demo sign-in") states the rule; these are its tests.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpline.app import create_app
from support.core.tokens import TokenVerifier
from support.core.settings import Settings
from tests.security.test_secret_output import output_after_stop, start

DEMO_SECRET = "generated-for-this-run-" + "d" * 32


def demo_client(client: tuple[str, int], base_url: str = "http://127.0.0.1:8000") -> httpx.AsyncClient:
    """The gateway app of `helpline up` (demo on), reached from `client` with `base_url` as the Host."""
    app = create_app(Settings(secret=DEMO_SECRET, demo=True, status_url="http://127.0.0.1:8001"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=client), base_url=base_url)


async def test_operator_secret_means_no_demo_tokens_even_from_loopback(tmp_path: Path) -> None:
    operator = "operator-secret-" + "o" * 40
    process, base = start("up", tmp_path, operator)
    try:
        response = httpx.get(base + "/demo/tokens", timeout=10)
        page = httpx.get(base + "/", timeout=10)
    finally:
        out = output_after_stop(process)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert page.status_code == 200  # the demo page still loads; demo.js says sign-in is not available
    # No admin token line (the incident desk's "sign in with an admin token" hint names no token) and no link.
    assert "  admin token " not in out and "?token=" not in out and "no demo sign-in" in out


async def test_generated_secret_gives_loopback_working_tokens(tmp_path: Path) -> None:
    process, base = start("up", tmp_path, None)
    try:
        response = httpx.get(base + "/demo/tokens", timeout=10)
    finally:
        out = output_after_stop(process)
    assert response.status_code == 200, response.text
    tokens = response.json()
    generated = next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("  HELPLINE_SECRET="))
    verifier = TokenVerifier(secret=generated)
    assert (await verifier.verify(tokens["admin"])).role == "admin"
    assert (await verifier.verify(tokens["customers"]["premium"])).plan == "premium"
    assert "admin token" in out


@pytest.mark.parametrize("client", [("203.0.113.7", 40000), ("10.0.0.5", 40000), ("2001:db8::1", 40000)])
async def test_generated_secret_but_another_machine_gets_404(client: tuple[str, int]) -> None:
    async with demo_client(client) as http:
        response = await http.get("/demo/tokens")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found" and "admin" not in response.text


@pytest.mark.parametrize("host", ["http://evil.example", "http://127.0.0.1.evil.example:8000", "http://[nope"])
async def test_loopback_client_under_a_foreign_host_name_gets_404(host: str) -> None:
    """DNS rebinding: a page of evil.example re-points its name at 127.0.0.1 and fetches from the user's browser."""
    app = create_app(Settings(secret=DEMO_SECRET, demo=True))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        response = await http.get("/demo/tokens", headers={"host": host.removeprefix("http://")})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "client,base_url",
    [
        (("127.0.0.1", 40000), "http://127.0.0.1:8000"),
        (("127.0.0.1", 40000), "http://localhost:8000"),
        (("::1", 40000), "http://[::1]:8000"),
        (("::ffff:127.0.0.1", 40000), "http://127.0.0.1:8000"),
    ],
)
async def test_loopback_client_under_a_loopback_name_gets_tokens(client: tuple[str, int], base_url: str) -> None:
    async with demo_client(client, base_url) as http:
        response = await http.get("/demo/tokens")
    assert response.status_code == 200
    assert (await TokenVerifier(secret=DEMO_SECRET).verify(response.json()["agent"])).role == "agent"
