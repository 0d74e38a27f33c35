"""The HTTP API of contract §3 on a real gateway: tickets, pages, status changes, errors."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.integration.conftest import token
from tests.services import Gateway
from tests.wsclient import Client


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture
async def http(gateway: Gateway):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        yield client


def person(name: str, plan: str = "free", role: str = "customer") -> str:
    return token(f"{name}-{uuid.uuid4().hex[:6]}", plan, role, name.title())


async def test_ticket_creation_is_idempotent_by_client_id(http: httpx.AsyncClient) -> None:
    carol = person("carol", "pro")
    body = {
        "subject": "Alert fired twice",
        "body": "My RSI alert fired twice.",
        "category": "bug",
        "client_id": "draft-1",
        "plan": "premium",
    }
    first = await http.post("/api/tickets", headers=auth(carol), json=body)
    again = await http.post("/api/tickets", headers=auth(carol), json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    # The plan comes from the token only, never from the body.
    assert first.json()["plan"] == "pro" and first.json()["priority"] == 3
    thread = (await http.get(f"/api/tickets/{first.json()['id']}", headers=auth(carol))).json()
    assert [(m["seq"], m["body"]) for m in thread["messages"]] == [(1, "My RSI alert fired twice.")]
    assert thread["has_more"] is False


async def test_support_tab_lists_own_tickets_newest_activity_first_in_pages(http: httpx.AsyncClient) -> None:
    dave = person("dave")
    ids = []
    for i in range(3):
        response = await http.post("/api/tickets", headers=auth(dave), json={"subject": f"t{i}", "body": "b"})
        ids.append(response.json()["id"])
    await http.post(f"/api/tickets/{ids[0]}/messages", headers=auth(dave), json={"body": "bump", "client_id": "b1"})
    page1 = (await http.get("/api/tickets?limit=2", headers=auth(dave))).json()
    assert [t["id"] for t in page1["tickets"]] == [ids[0], ids[2]] and page1["next"]
    page2 = (await http.get(f"/api/tickets?limit=2&cursor={page1['next']}", headers=auth(dave))).json()
    assert [t["id"] for t in page2["tickets"]] == [ids[1]] and page2["next"] is None


async def test_agent_queue_follows_contract_order(http: httpx.AsyncClient) -> None:
    plans = ["free", "pro", "premium", "pro_plus"]
    made = {}
    for plan in plans:
        response = await http.post(
            "/api/tickets", headers=auth(person(f"q{plan}", plan)), json={"subject": f"queue {plan}", "body": "b"}
        )
        made[plan] = response.json()["id"]
    queue = (await http.get("/api/tickets?limit=100", headers=auth(person("agent", role="agent")))).json()
    order = [t["id"] for t in queue["tickets"] if t["id"] in made.values()]
    assert order == [made["premium"], made["pro_plus"], made["pro"], made["free"]]
    free = [t for t in queue["tickets"] if t["id"] == made["free"]][0]
    assert free["first_response_due"] is None and free["priority"] == 4


async def test_thread_pages_by_after_seq(http: httpx.AsyncClient) -> None:
    erin = person("erin")
    ticket = (await http.post("/api/tickets", headers=auth(erin), json={"subject": "s", "body": "1"})).json()
    for i in range(2, 8):
        response = await http.post(
            f"/api/tickets/{ticket['id']}/messages", headers=auth(erin), json={"body": str(i), "client_id": f"c{i}"}
        )
        assert response.status_code == 201 and response.json()["seq"] == i
    first = (await http.get(f"/api/tickets/{ticket['id']}?limit=3", headers=auth(erin))).json()
    assert [m["seq"] for m in first["messages"]] == [1, 2, 3] and first["has_more"] is True
    rest = (await http.get(f"/api/tickets/{ticket['id']}?after_seq=3&limit=10", headers=auth(erin))).json()
    assert [m["seq"] for m in rest["messages"]] == [4, 5, 6, 7] and rest["has_more"] is False
    assert rest["ticket"]["last_seq"] == 7
    dup = await http.post(
        f"/api/tickets/{ticket['id']}/messages", headers=auth(erin), json={"body": "again", "client_id": "c7"}
    )
    assert dup.status_code == 200 and dup.json()["seq"] == 7 and dup.json()["body"] == "7"


async def test_status_lifecycle_and_customer_reply_reopens(http: httpx.AsyncClient) -> None:
    fay, agent = person("fay", "pro"), person("agent", role="agent")
    ticket = (await http.post("/api/tickets", headers=auth(fay), json={"subject": "s", "body": "b"})).json()
    url = f"/api/tickets/{ticket['id']}"
    assert (await http.patch(url, headers=auth(fay), json={"status": "solved"})).status_code == 403
    assigned = await http.patch(url, headers=auth(agent), json={"assignee": "agent-x", "status": "pending"})
    assert assigned.status_code == 200 and assigned.json()["status"] == "pending"
    assert assigned.json()["assignee"] == "agent-x"
    solved = await http.patch(url, headers=auth(agent), json={"status": "solved"})
    assert solved.json()["status"] == "solved" and solved.json()["solved_at"]
    await http.post(f"{url}/messages", headers=auth(fay), json={"body": "still broken", "client_id": "r1"})
    assert (await http.get(url, headers=auth(fay))).json()["ticket"]["status"] == "open"
    closed = await http.patch(url, headers=auth(agent), json={"status": "closed"})
    assert closed.json()["status"] == "closed"
    reopen = await http.patch(url, headers=auth(agent), json={"status": "open"})
    assert reopen.status_code == 409 and reopen.json()["error"]["code"] == "conflict"
    late = await http.post(f"{url}/messages", headers=auth(fay), json={"body": "hello?", "client_id": "r2"})
    assert late.status_code == 409
    unknown = await http.patch(url, headers=auth(agent), json={"status": "exploded"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "bad_request"


async def test_errors_have_the_contract_shape(http: httpx.AsyncClient) -> None:
    gus = person("gus")
    no_token = await http.get("/api/tickets")
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == "unauthorized"
    forged = await http.get("/api/tickets", headers=auth(gus[:-3] + "abc"))
    assert forged.status_code == 401
    bad = await http.post("/api/tickets", headers=auth(gus), content=b"{not json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    missing = await http.post("/api/tickets", headers=auth(gus), json={"subject": "no body"})
    assert missing.status_code == 400
    huge = await http.post("/api/tickets", headers=auth(gus), json={"subject": "s", "body": "x" * 70_000})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    nothing = await http.get("/api/tickets/doesnotexist", headers=auth(gus))
    assert nothing.status_code == 404 and nothing.json()["error"]["code"] == "not_found"
    page = await http.get("/api/tickets?limit=100000", headers=auth(gus))
    assert page.status_code == 400
    agent_opens = await http.post(
        "/api/tickets", headers=auth(person("a", role="agent")), json={"subject": "s", "body": "b"}
    )
    assert agent_opens.status_code == 403


async def test_health_readiness_and_metrics(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = (await http.get("/readyz")).json()
    assert ready == {"status": "ok", "checks": {"database": True, "bus": True}}
    metrics = (await http.get("/metrics")).text
    for name in (
        "helpline_connections",
        "helpline_frames_in_total",
        "helpline_commits_total",
        "helpline_commit_seconds_bucket",
    ):
        assert name in metrics


async def listed(http: httpx.AsyncClient, who: str, ticket_id: str, last_seq: int) -> dict:  # type: ignore[type-arg]
    """The ticket in `who`'s own list once the worker has written up to `last_seq`."""
    for _ in range(200):
        tickets = (await http.get("/api/tickets", headers=auth(who))).json()["tickets"]
        found = next(t for t in tickets if t["id"] == ticket_id)
        if found["last_seq"] >= last_seq:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the list never reached seq {last_seq}")


async def test_a_customers_unread_count_is_what_they_would_see_from_others(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    """Not last_seq - read_seq: an internal note is never shown to the customer, and their own words (from another
    device, or by mail) are not news to them. The badge in the widget and the Support tab read this count."""
    fay, agent = person("fay"), person("agent", role="agent")
    ticket = (await http.post("/api/tickets", headers=auth(fay), json={"subject": "Alerts", "body": "late"})).json()
    path = f"/api/tickets/{ticket['id']}/messages"
    for who, body, internal in (
        (agent, "checking logs", True),
        (agent, "Fixed, sorry!", False),
        (fay, "thanks", False),
    ):
        posted = await http.post(path, headers=auth(who), json={"body": body, "client_id": body, "internal": internal})
        assert posted.status_code == 201
    seen = await listed(http, fay, ticket["id"], 4)
    assert (seen["last_seq"], seen["read_seq"], seen["unread"]) == (4, 0, 1)  # only the agent's reply

    client = await Client.connect(gateway.ws_url, fay)
    await client.join(ticket["id"])
    await client.send({"type": "read", "ticket": ticket["id"], "seq": 4})
    await client.close()
    await http.post(path, headers=auth(agent), json={"body": "Anything else?", "client_id": "more"})
    seen = await listed(http, fay, ticket["id"], 5)
    for _ in range(100):  # the read cursor is stored off the message path
        if seen["read_seq"] == 4:
            break
        await asyncio.sleep(0.05)
        seen = await listed(http, fay, ticket["id"], 5)
    assert (seen["read_seq"], seen["unread"]) == (4, 1)
