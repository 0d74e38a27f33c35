"""A closed ticket takes no new customer message (HTTP 409 / an error frame, reason `ticket_closed`); the customer
opens a follow-up instead, which names the closed ticket, and the closed ticket lists its follow-ups.
On SQLite and PostgreSQL (the `gateway` fixture runs on both)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import token
from tests.services import Gateway, auth
from tests.wsclient import Client


@pytest.fixture
async def http(gateway: Gateway):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        yield client


def person(name: str, plan: str = "free", role: str = "customer") -> str:
    return token(f"{name}-{uuid.uuid4().hex[:6]}", plan, role, name.title())


async def closed_ticket(http: httpx.AsyncClient, customer: str, agent: str) -> str:
    ticket = (await http.post("/api/tickets", headers=auth(customer), json={"subject": "Export", "body": "b"})).json()
    closed = await http.patch(f"/api/tickets/{ticket['id']}", headers=auth(agent), json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    return str(ticket["id"])


async def test_a_closed_ticket_refuses_customer_messages_over_http_and_ws(
    gateway: Gateway, http: httpx.AsyncClient
) -> None:
    hana, agent = person("hana", "pro"), person("agent", role="agent")
    ticket = await closed_ticket(http, hana, agent)
    late = await http.post(
        f"/api/tickets/{ticket}/messages", headers=auth(hana), json={"body": "hi?", "client_id": "x1"}
    )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "conflict" and late.json()["error"]["reason"] == "ticket_closed"
    ws = await Client.connect(gateway.ws_url, hana)
    try:
        await ws.join(ticket)
        await ws.send({"type": "send", "ticket": ticket, "client_id": "x2", "body": "anyone?"})
        error = await ws.expect("error", ref="x2")
        assert error["code"] == "conflict" and error["reason"] == "ticket_closed"
    finally:
        await ws.close()
    thread = (await http.get(f"/api/tickets/{ticket}", headers=auth(hana))).json()
    assert [m["body"] for m in thread["messages"]] == ["b"]  # nothing was added


async def test_a_follow_up_names_the_closed_ticket_and_both_show_the_link(http: httpx.AsyncClient) -> None:
    ivo, agent = person("ivo"), person("agent", role="agent")
    old = await closed_ticket(http, ivo, agent)
    created = await http.post(
        "/api/tickets",
        headers=auth(ivo),
        json={"subject": "Export, again", "body": "It failed again.", "follow_up_of": old},
    )
    assert created.status_code == 201 and created.json()["follow_up_of"] == old
    new = created.json()["id"]
    for viewer in (ivo, agent):  # the customer and the desk read the same links
        old_view = (await http.get(f"/api/tickets/{old}", headers=auth(viewer))).json()["ticket"]
        assert old_view["follow_ups"] == [new] and old_view["status"] == "closed"
        new_view = (await http.get(f"/api/tickets/{new}", headers=auth(viewer))).json()["ticket"]
        assert new_view["follow_up_of"] == old and new_view["status"] == "open"
    listed = (await http.get("/api/tickets", headers=auth(ivo))).json()["tickets"]
    assert {t["id"]: t.get("follow_up_of") for t in listed} == {new: old, old: None}


async def test_only_ones_own_ticket_can_be_followed_up(http: httpx.AsyncClient) -> None:
    jo, kim, agent = person("jo"), person("kim"), person("agent", role="agent")
    theirs = await closed_ticket(http, jo, agent)
    refused = await http.post(
        "/api/tickets", headers=auth(kim), json={"subject": "s", "body": "b", "follow_up_of": theirs}
    )
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    missing = await http.post(
        "/api/tickets", headers=auth(kim), json={"subject": "s", "body": "b", "follow_up_of": "no-such-ticket"}
    )
    assert missing.status_code == 404
    assert (await http.get("/api/tickets", headers=auth(kim))).json()["tickets"] == []
