"""Identity from the host platform's identity provider, end to end: a real `helpline gateway` process checks RS256
and ES256 tokens against a JWKS document that this test serves over real HTTP, through /ws hello and the HTTP API;
the provider rotates its keys, signs with keys it never published, stalls and goes away."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator

import httpx
import pytest

from support.core.tokens import issue_token
from tests.identity_provider import AUDIENCE, ISSUER, JwksServer, SigningKey, hs256_with_public_key, unsigned
from tests.services import SECRET, Gateway, auth, migrated_database
from tests.wsclient import Client

RSA_A, EC_E, ROTATED_OUT, ROTATED_IN = (
    SigningKey("A", "RS256"),
    SigningKey("E", "ES256"),
    SigningKey("R1", "ES256"),
    SigningKey("R2", "RS256"),
)
STRANGER = SigningKey("A", "RS256")  # claims kid A, but the provider never had this key
IDP_ENV = {
    "HELPLINE_JWT_ISSUER": ISSUER,
    "HELPLINE_JWT_AUDIENCE": AUDIENCE,
    "HELPLINE_JWKS_MIN_REFRESH_S": "0.3",
    "HELPLINE_JWKS_TIMEOUT_S": "1.5",
}


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from migrated_database("sqlite", tmp_path_factory)


@pytest.fixture(scope="module")
def provider() -> Iterator[JwksServer]:
    server = JwksServer(RSA_A, EC_E, ROTATED_OUT)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(sqlite_database: str, provider: JwksServer) -> Iterator[Gateway]:
    node = Gateway(sqlite_database, HELPLINE_JWKS_URL=provider.url, **IDP_ENV).start()
    yield node
    node.stop()


async def welcome(gateway: Gateway, token: str) -> dict:
    client = await Client.connect(gateway.ws_url)
    await client.send({"type": "hello", "token": token})
    frame = await client.expect("welcome")
    await client.close()
    return frame["user"]


async def closed_on_hello(gateway: Gateway, token: str) -> int | None:
    client = await Client.connect(gateway.ws_url)
    await client.send({"type": "hello", "token": token})
    return await client.wait_closed()


async def api_status(gateway: Gateway, token: str) -> int:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        response = await http.get("/api/tickets", headers=auth(token))
        if response.status_code != 200:
            assert response.json()["error"]["code"] == "unauthorized"
        return response.status_code


async def test_rs256_and_es256_tokens_are_accepted_over_ws_and_http(gateway: Gateway) -> None:
    customer = RSA_A.sign("cora", name="Cora", plan="premium", locale="vi", email="cora@platform.example")
    agent = EC_E.sign("ed", name="Ed", role="agent")
    assert await welcome(gateway, customer) == {"id": "cora", "name": "Cora", "role": "customer", "plan": "premium"}
    assert (await welcome(gateway, agent))["role"] == "agent"
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        opened = await http.post(
            "/api/tickets",
            headers=auth(customer),
            json={"subject": "Orders stuck", "body": "My limit order never fills."},
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["plan"] == "premium" and opened.json()["customer"] == {"id": "cora", "name": "Cora"}
        seen = await http.get(f"/api/tickets/{opened.json()['id']}", headers=auth(agent))
        assert seen.status_code == 200 and seen.json()["messages"][0]["body"] == "My limit order never fills."
    # The shared secret still works beside the provider (`helpline token` puts the configured iss and aud in).
    assert await api_status(gateway, issue_token(SECRET, "dev", issuer=ISSUER, audience=AUDIENCE)) == 200


async def test_a_rotated_key_is_accepted_after_the_refresh_on_its_unknown_kid(
    gateway: Gateway, provider: JwksServer
) -> None:
    assert await api_status(gateway, ROTATED_OUT.sign("rita")) == 200
    assert await closed_on_hello(gateway, ROTATED_IN.sign("rita")) == 4401  # not published yet
    provider.publish(RSA_A, EC_E, ROTATED_IN)  # the provider rotates: R1 withdrawn, R2 published
    await asyncio.sleep(0.4)  # unknown kids fetch the set again at most every HELPLINE_JWKS_MIN_REFRESH_S
    fetches = provider.fetches
    assert (await welcome(gateway, ROTATED_IN.sign("rita")))["id"] == "rita"
    assert provider.fetches == fetches + 1
    assert await api_status(gateway, ROTATED_IN.sign("rita")) == 200
    assert await api_status(gateway, ROTATED_OUT.sign("rita")) == 401  # a withdrawn key is trusted no longer
    assert await api_status(gateway, RSA_A.sign("rita")) == 200


REFUSED = {
    "signed by a key not in the set": lambda: STRANGER.sign("mallory", role="admin"),
    "unknown kid": lambda: SigningKey("nobody", "ES256").sign("mallory"),
    "wrong issuer": lambda: RSA_A.sign("mallory", iss="https://id.evil.example/"),
    "wrong audience": lambda: RSA_A.sign("mallory", aud="another-service"),
    "no audience": lambda: RSA_A.sign("mallory", aud=None),
    "expired": lambda: RSA_A.sign("mallory", exp=int(time.time()) - 30),
    "HS256 signed with the RSA public key": lambda: hs256_with_public_key(RSA_A, "mallory"),
    "alg none": lambda: unsigned("mallory"),
    "RS256 on the EC key's kid": lambda: STRANGER.sign("mallory", kid="E"),
    "HS256 without the configured iss": lambda: issue_token(SECRET, "mallory"),
}


@pytest.mark.parametrize("why", REFUSED)
async def test_tokens_the_provider_did_not_issue_are_refused(gateway: Gateway, why: str) -> None:
    assert await api_status(gateway, RSA_A.sign("mallory")) == 200  # the genuine token of the same user passes
    token = REFUSED[why]()
    assert await closed_on_hello(gateway, token) == 4401
    assert await api_status(gateway, token) == 401


@pytest.fixture
def stalled_provider() -> Iterator[JwksServer]:
    server = JwksServer(RSA_A)
    server.stall()
    yield server
    server.stop()


async def test_a_stalled_then_dead_provider_is_refused_cleanly(
    sqlite_database: str, stalled_provider: JwksServer
) -> None:
    node = Gateway(
        sqlite_database, HELPLINE_JWKS_URL=stalled_provider.url, **{**IDP_ENV, "HELPLINE_JWKS_TIMEOUT_S": "3"}
    ).start()
    try:
        waiting = asyncio.create_task(closed_on_hello(node, RSA_A.sign("wendy")))
        await asyncio.sleep(0.3)  # the node is now waiting for the provider's keys
        async with httpx.AsyncClient(base_url=node.url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
        dev = issue_token(SECRET, "dev", issuer=ISSUER, audience=AUDIENCE)
        assert (await welcome(node, dev))["id"] == "dev"
        assert stalled_provider.fetches == 1 and not waiting.done()  # served while the fetch is still stalled
        assert await asyncio.wait_for(waiting, 6) == 4401  # refused once HELPLINE_JWKS_TIMEOUT_S ran out
        assert await api_status(node, RSA_A.sign("wendy")) == 401
        stalled_provider.stop()  # now the port refuses connections
        await asyncio.sleep(0.4)
        started = time.monotonic()
        assert await api_status(node, RSA_A.sign("wendy")) == 401
        assert await closed_on_hello(node, RSA_A.sign("wendy")) == 4401
        assert time.monotonic() - started < 2  # a closed port is an answer: no waiting for the timeout
        assert node.process is not None and node.process.poll() is None
        assert await api_status(node, dev) == 200
    finally:
        node.stop()


async def test_a_node_with_the_providers_keys_only_needs_no_secret_and_takes_no_hs256(
    sqlite_database: str, provider: JwksServer
) -> None:
    node = Gateway(sqlite_database, HELPLINE_JWKS_URL=provider.url, HELPLINE_SECRET="", **IDP_ENV).start()
    try:
        assert await api_status(node, EC_E.sign("nia")) == 200
        assert await api_status(node, issue_token(SECRET, "nia", issuer=ISSUER, audience=AUDIENCE)) == 401
        assert await closed_on_hello(node, issue_token(SECRET, "nia", issuer=ISSUER, audience=AUDIENCE)) == 4401
    finally:
        node.stop()
