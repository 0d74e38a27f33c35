"""Idempotency is per (ticket, author, client_id) on a real gateway: over HTTP, over /ws, after a restart.

A client_id that another author used never returns that author's message (an agent's internal note least of all)
and never swallows the caller's own; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from persistence.store import TicketStore
from support.core.bus import Draft
from support.core.model import User
from tests.integration.conftest import GATEWAY_ENV, auth, token
from tests.services import Gateway
from tests.wsclient import Client


def person(name: str, role: str = "customer") -> str:
    return token(f"{name}-{uuid.uuid4().hex[:6]}", "pro", role, name.title())


@pytest.fixture
async def http(gateway: Gateway):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        yield client


async def open_ticket(http: httpx.AsyncClient, customer: str) -> str:
    response = await http.post("/api/tickets", headers=auth(customer), json={"subject": "Charts", "body": "blank"})
    assert response.status_code == 201
    return str(response.json()["id"])


async def post(
    http: httpx.AsyncClient, who: str, ticket: str, client_id: str, body: str, internal: bool = False
) -> httpx.Response:
    return await http.post(
        f"/api/tickets/{ticket}/messages",
        headers=auth(who),
        json={"body": body, "client_id": client_id, "internal": internal},
    )


async def thread(http: httpx.AsyncClient, who: str, ticket: str) -> list[tuple[int, str, bool]]:
    messages = (await http.get(f"/api/tickets/{ticket}", headers=auth(who))).json()["messages"]
    return [(m["seq"], m["body"], m["internal"]) for m in messages]


async def test_customer_reusing_an_internal_notes_client_id_gets_its_own_new_message(http: httpx.AsyncClient) -> None:
    customer, agent = person("cara"), person("alex", "agent")
    ticket = await open_ticket(http, customer)
    note = await post(http, agent, ticket, "n-1", "customer is on the legacy plan", internal=True)
    assert note.status_code == 201
    mine = await post(http, customer, ticket, "n-1", "any news?")
    assert mine.status_code == 201
    body = mine.json()
    assert (body["seq"], body["body"], body["internal"], body["author"]["role"]) == (3, "any news?", False, "customer")
    assert await thread(http, customer, ticket) == [(1, "blank", False), (3, "any news?", False)]
    again = await post(http, customer, ticket, "n-1", "any news?")
    assert again.status_code == 200 and again.json()["seq"] == 3 and not again.json()["internal"]


async def test_agent_reusing_the_customers_client_id_gets_its_own_reply_stored(http: httpx.AsyncClient) -> None:
    customer, agent = person("cole"), person("ava", "agent")
    ticket = await open_ticket(http, customer)
    assert (await post(http, customer, ticket, "c-1", "still blank")).status_code == 201
    reply = await post(http, agent, ticket, "c-1", "try a hard reload")
    assert reply.status_code == 201
    assert (reply.json()["seq"], reply.json()["author"]["role"]) == (3, "agent")
    assert await thread(http, customer, ticket) == [
        (1, "blank", False),
        (2, "still blank", False),
        (3, "try a hard reload", False),
    ]


async def test_uploading_with_another_uploaders_client_id_stores_the_callers_own_file(http: httpx.AsyncClient) -> None:
    customer, agent = person("cleo"), person("abe", "agent")
    ticket = await open_ticket(http, customer)
    url = f"/api/tickets/{ticket}/attachments"
    theirs = await http.post(
        url, params={"filename": "steps.txt", "client_id": "u-1"}, headers=auth(agent), content=b"1. open settings"
    )
    mine = await http.post(
        url,
        params={"filename": "console.log", "client_id": "u-1"},
        headers=auth(customer),
        content=b"TypeError: x is undefined",
    )
    assert theirs.status_code == 201 and mine.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"] and mine.json()["filename"] == "console.log"
    download = await http.get(mine.json()["url"], headers=auth(customer))
    assert download.content == b"TypeError: x is undefined"


async def test_agent_reusing_the_customers_client_id_over_ws_is_acked_with_its_own_seq(
    gateway: Gateway, http: httpx.AsyncClient
) -> None:
    customer_token, agent_token = person("cruz"), person("ada", "agent")
    ticket = await open_ticket(http, customer_token)
    customer = await Client.connect(gateway.ws_url, customer_token, origin="https://platform.example")
    agent = await Client.connect(gateway.ws_url, agent_token, origin="https://platform.example")
    try:
        await customer.join(ticket)
        await agent.join(ticket)
        assert (await customer.say(ticket, "still blank", client_id="x-1"))["seq"] == 2
        ack = await agent.say(ticket, "try a hard reload", client_id="x-1")
        assert ack["seq"] == 3
        for member in (customer, agent):
            frame = await member.expect("message", seq=3)
            assert (frame["body"], frame["author"]["role"]) == ("try a hard reload", "agent")
        note_ack = await agent.say(ticket, "legacy plan", internal=True, client_id="x-2")
        await agent.expect("message", seq=note_ack["seq"])  # delivered to the members who may see it
        assert (await customer.say(ticket, "hello?", client_id="x-2"))["seq"] == note_ack["seq"] + 1
        await customer.say(ticket, "still blank", client_id="x-1")  # a retry: acked again, delivered once
        await agent.expect("message", body="hello?")
        assert [f["seq"] for f in customer.of_type("ack", client_id="x-1")] == [2, 2]
        assert not [f for f in customer.frames if f.get("internal") or f.get("body") == "legacy plan"]
        assert [f["seq"] for f in customer.of_type("message")] == [2, 3, 5]
    finally:
        await customer.close()
        await agent.close()


async def test_after_a_restart_each_author_is_answered_with_its_own_message(database_url: str) -> None:
    customer, agent, other_agent = person("cyd"), person("amy", "agent"), person("al", "agent")
    node = Gateway(database_url, **GATEWAY_ENV).start()
    try:
        async with httpx.AsyncClient(base_url=node.url) as http:
            ticket = await open_ticket(http, customer)
            assert (await post(http, agent, ticket, "r-1", "refund approved", internal=True)).status_code == 201
            assert (await post(http, customer, ticket, "r-1", "any news?")).status_code == 201
    finally:
        node.stop()
    again = Gateway(database_url, **GATEWAY_ENV).start()  # the memory bus seeds the ticket from the database
    try:
        async with httpx.AsyncClient(base_url=again.url) as http:
            retry = await post(http, customer, ticket, "r-1", "any news?")
            assert retry.status_code == 200
            assert (retry.json()["seq"], retry.json()["body"], retry.json()["internal"]) == (3, "any news?", False)
            note = await post(http, agent, ticket, "r-1", "refund approved", internal=True)
            assert note.status_code == 200 and note.json()["seq"] == 2 and note.json()["internal"]
            new = await post(http, other_agent, ticket, "r-1", "refund sent")
            assert new.status_code == 201 and new.json()["seq"] == 4
    finally:
        again.stop()


async def test_the_history_keeps_two_authors_messages_with_one_client_id(database_url: str) -> None:
    """The persistence write (COPY on PostgreSQL, its replay fallback, SQLite's insert): a replay adds nothing,
    another author's client_id is another row."""
    store = TicketStore(database_url)
    ticket = f"w-{uuid.uuid4().hex[:8]}"
    at = "2025-01-01T00:00:00Z"
    note = Draft(ticket, "same", User("alex", "Alex", "agent"), "known outage", True, at).committed(1)
    question = Draft(ticket, "same", User("cara", "Cara", "customer"), "is it down?", False, at).committed(2)
    try:
        await store.write_messages([note])
        await store.write_messages([note, question])  # a replay overlapping a new row (the worker's fallback)
        stored = await store.messages_after(ticket, 0, 10, include_internal=True)
        assert [(m.seq, m.author.id, m.body) for m in stored] == [
            (1, "alex", "known outage"),
            (2, "cara", "is it down?"),
        ]
        found = await store.message_by_client_id(ticket, "cara", "same")
        assert found is not None and (found.seq, found.internal) == (2, False)
        assert await store.message_by_client_id(ticket, "someone-else", "same") is None
    finally:
        await store.close()
