"""The live banner: a change on the status page reaches every connection on every gateway node as a `status` frame
(each node holds its own `/api/stream` subscription), refreshes the known-incident match at once, and a status page
that goes down and comes back is followed again — two gateway nodes on Redis and PostgreSQL, a real status page."""

from __future__ import annotations

import secrets
from typing import Any, Iterator

import httpx
import pytest

from tests.intake.conftest import StatusPage, auth, token
from tests.scaleout.conftest import drop_prefix
from tests.services import REDIS_URL, Gateway, migrate, postgres_database, require_redis
from tests.wsclient import Client

# A long cache: a match that finds the new incident right after the push was refreshed by the push, not by a fetch.
LIVE_ENV = {"HELPLINE_INCIDENT_POLL_S": "0.5", "HELPLINE_STATUS_CACHE_S": "600"}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StatusPage]:
    status = StatusPage(tmp_path_factory.mktemp("live-status")).start()
    yield status
    status.stop()


@pytest.fixture(scope="module")
def nodes(page: StatusPage) -> Iterator[tuple[Gateway, Gateway]]:
    require_redis()
    prefix = f"hl-test-{secrets.token_hex(4)}"
    for url in postgres_database():
        migrate(url)
        env = {"HELPLINE_STATUS_URL": page.url, "HELPLINE_KEY_PREFIX": prefix, **LIVE_ENV}
        first = Gateway(url, REDIS_URL, **env).start()
        second = Gateway(url, REDIS_URL, **env).start()
        try:
            yield first, second
        finally:
            first.stop()
            second.stop()
            drop_prefix(REDIS_URL, prefix)


def names_in(frame: dict[str, Any]) -> list[str]:
    return [i["name"] for i in frame["incidents"]]


async def pushed(client: Client, predicate: Any, after: int = 0) -> dict[str, Any]:
    """The first `status` frame from the `after`-th frame on that satisfies predicate (waiting for it)."""

    def matching(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in frames[after:] if f["type"] == "status" and predicate(f)]

    await client.until(matching, timeout=20)
    return matching(client.frames)[0]


async def test_a_change_reaches_every_connection_on_both_nodes_and_the_known_incident_match(
    nodes: tuple[Gateway, Gateway], page: StatusPage
) -> None:
    run = secrets.token_hex(3)
    customer = token(f"anna-{run}", "pro")
    clients = [await Client.connect(node.ws_url, token(f"c{k}-{run}")) for k, node in enumerate(nodes)]
    try:
        for client in clients:  # the node's feed is up: its current status comes after welcome, or right after
            await pushed(client, lambda f: f["incidents"] == [])
        incident = page.open_incident("Charts not loading", "Charts stay blank for some users.", ["charts"])
        for client in clients:
            frame = await pushed(
                client, lambda f: names_in(f) == ["Charts not loading"]
            )  # pushed only after the change
            assert frame["overall"] == "partial_outage"
            (shown,) = frame["incidents"]
            assert shown["id"] == incident["id"] and shown["status"] == "investigating"
            assert shown["updates"][0]["body"] == "Charts stay blank for some users."
            assert shown["shortlink"].endswith(f"/incidents/{incident['id']}")

        draft = {"subject": "Charts not loading", "body": "My charts stay blank.", "category": "bug"}
        async with httpx.AsyncClient(base_url=nodes[1].url) as http:
            found = (await http.post("/api/incidents/match", headers=auth(customer), json=draft)).json()
            assert [i["id"] for i in found["incidents"]] == [incident["id"]]

            marks = [len(client.frames) for client in clients]
            page.resolve(incident["id"], "Charts render again.")
            for client, mark in zip(clients, marks):
                frame = await pushed(client, lambda f: f["incidents"] == [], after=mark)
                assert frame["overall"] == "operational"
            found = (await http.post("/api/incidents/match", headers=auth(customer), json=draft)).json()
            assert found["incidents"] == []
    finally:
        for client in clients:
            await client.close()


async def test_gateways_keep_serving_while_the_status_page_is_down_and_follow_it_again(
    nodes: tuple[Gateway, Gateway], page: StatusPage
) -> None:
    run = secrets.token_hex(3)
    customer = token(f"binh-{run}", "pro")
    page.stop()
    client = await Client.connect(nodes[0].ws_url, token(f"d-{run}"))  # hello works without the status page
    try:
        async with httpx.AsyncClient(base_url=nodes[0].url) as http:
            draft = {"subject": "Chat slow", "body": "Replies take long.", "category": "bug"}
            r = await http.post("/api/incidents/match", headers=auth(customer), json=draft)
            assert r.status_code == 200
            page.start()
            incident = page.open_incident("Chat delayed", "Messages arrive late.", ["support-chat"])
            frame = await pushed(client, lambda f: names_in(f) == ["Chat delayed"])
            assert frame["incidents"][0]["id"] == incident["id"]
    finally:
        await client.close()
