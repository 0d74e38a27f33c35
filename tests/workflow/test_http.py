"""The workflow endpoints on a real gateway (SQLite and PostgreSQL): what customers and agents see."""

from __future__ import annotations

import uuid

import httpx
import pytest

from support.core.policy import FREE_PLAN_NOTICE
from tests.workflow.conftest import auth, person


async def open_ticket(http: httpx.AsyncClient, who: str, subject: str = "Question", body: str = "Hello") -> dict:
    response = await http.post("/api/tickets", headers=auth(who), json={"subject": subject, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_customer_sees_the_expected_reply_time_of_their_plan_from_the_live_queue(http: httpx.AsyncClient) -> None:
    premium = person("pam", "premium")
    before = (await http.get("/api/support/expected", headers=auth(premium))).json()
    assert before["plan"] == "premium" and before["target_s"] == 3600 and before["notice"] is None
    assert before["expected_s"] >= 60
    await open_ticket(http, person("other", "premium"))
    after = (await http.get("/api/support/expected", headers=auth(premium))).json()
    assert after["queue_ahead"] == before["queue_ahead"] + 1
    assert after["expected_s"] > before["expected_s"]  # one more ticket to answer first

    free = (await http.get("/api/support/expected", headers=auth(person("fred")))).json()
    assert free["plan"] == "free" and free["expected_s"] is None and free["target_s"] is None
    assert free["notice"] == FREE_PLAN_NOTICE
    assert (await http.get("/api/support/expected")).status_code == 401


async def test_a_reviewed_free_report_shows_as_received_and_reviewed_to_its_customer(http: httpx.AsyncClient) -> None:
    fran, agent = person("fran"), person("alice", role="agent")
    ticket = await open_ticket(http, fran, "Feature idea", "Please add Renko charts")
    assert ticket["reviewed_at"] is None and ticket["first_response_due"] is None
    assert (
        await http.patch(f"/api/tickets/{ticket['id']}", headers=auth(fran), json={"reviewed": True})
    ).status_code == 403
    marked = await http.patch(f"/api/tickets/{ticket['id']}", headers=auth(agent), json={"reviewed": True})
    assert marked.status_code == 200 and marked.json()["reviewed_at"]
    seen = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(fran))).json()["ticket"]
    assert seen["reviewed_at"] == marked.json()["reviewed_at"] and seen["status"] == "open"
    listed = (await http.get("/api/tickets", headers=auth(fran))).json()["tickets"]
    assert listed[0]["reviewed_at"] == seen["reviewed_at"]


async def test_similar_free_reports_are_one_signal_and_reviewing_it_marks_every_report(http: httpx.AsyncClient) -> None:
    agent, mark = person("alice", role="agent"), f"zx{uuid.uuid4().hex[:6]}"
    similar = [
        (f"Watchlist {mark} does not refresh", f"My {mark} watchlist prices are frozen and do not refresh"),
        (f"{mark} watchlist frozen", f"the {mark} watchlist stopped refreshing prices, frozen since noon"),
        (f"Frozen prices in {mark} watchlist", f"prices in the {mark} watchlist are frozen, refresh does nothing"),
    ]
    ids = [(await open_ticket(http, person("free"), s, b))["id"] for s, b in similar]
    other = (await open_ticket(http, person("free"), "Invoice address", "How do I change my billing address?"))["id"]
    listed = await http.get("/api/signals", headers=auth(agent))
    assert listed.status_code == 200
    signal = next(s for s in listed.json() if set(ids) <= set(s["ticket_ids"]))
    assert signal["count"] == 3 and other not in signal["ticket_ids"]
    assert signal["trend"]["last_24h"] == 3 and signal["trend"]["direction"] == "rising"
    assert mark in signal["title"] and signal["sample"]

    reviewed = await http.post(f"/api/signals/{signal['id']}/review", headers=auth(agent))
    assert reviewed.status_code == 200
    for ticket_id in ids:
        view = (await http.get(f"/api/tickets/{ticket_id}", headers=auth(agent))).json()["ticket"]
        assert view["reviewed_at"]
    assert (await http.post("/api/signals/sig-nope/review", headers=auth(agent))).status_code == 404


async def test_canned_replies_are_created_edited_rendered_and_deleted(http: httpx.AsyncClient) -> None:
    agent = person("alice", role="agent")
    carol = person("carol", "pro")
    ticket = await open_ticket(http, carol, "Alert fired twice")
    created = await http.post(
        "/api/canned",
        headers=auth(agent),
        json={"title": "Greeting", "body": "Hi {{customer.name}}, re #{{ticket.id}}"},
    )
    assert created.status_code == 201
    reply = created.json()
    edited = await http.patch(
        f"/api/canned/{reply['id']}",
        headers=auth(agent),
        json={"body": 'Hi {{customer.name}}, about "{{ticket.subject}}" - {{agent.name}}'},
    )
    assert edited.status_code == 200 and edited.json()["title"] == "Greeting"
    assert reply["id"] in [c["id"] for c in (await http.get("/api/canned", headers=auth(agent))).json()]
    rendered = await http.post(
        f"/api/canned/{reply['id']}/render",
        headers=auth(agent),
        json={"ticket": ticket["id"], "article": "duplicate-alerts"},
    )
    assert rendered.json() == {"body": 'Hi Carol, about "Alert fired twice" - Alice\n\n/help/duplicate-alerts'}
    bad = await http.post(
        f"/api/canned/{reply['id']}/render", headers=auth(agent), json={"ticket": ticket["id"], "article": "../../etc"}
    )
    assert bad.status_code == 400
    assert (await http.delete(f"/api/canned/{reply['id']}", headers=auth(agent))).status_code == 204
    gone = await http.post(f"/api/canned/{reply['id']}/render", headers=auth(agent), json={"ticket": ticket["id"]})
    assert gone.status_code == 404


async def test_csat_is_given_once_by_the_owner_after_the_ticket_is_solved(http: httpx.AsyncClient) -> None:
    owner, agent = person("olga", "pro"), person("alice", role="agent")
    ticket = await open_ticket(http, owner)
    url = f"/api/tickets/{ticket['id']}/csat"
    rating = {"score": 4, "comment": "quick and kind"}
    assert (await http.post(url, headers=auth(owner), json=rating)).status_code == 409  # not solved yet
    solved = await http.patch(f"/api/tickets/{ticket['id']}", headers=auth(agent), json={"status": "solved"})
    assert solved.json()["resolution_s"] is not None
    assert (await http.post(url, headers=auth(person("mallory")), json=rating)).status_code == 404
    assert (await http.post(url, headers=auth(agent), json=rating)).status_code == 403
    assert (await http.post(url, headers=auth(owner), json={"score": 6})).status_code == 400
    assert (await http.get(url, headers=auth(owner))).status_code == 404  # not rated yet: the widget asks
    first = await http.post(url, headers=auth(owner), json=rating)
    assert first.status_code == 201 and first.json()["score"] == 4
    again = await http.post(url, headers=auth(owner), json={"score": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert (await http.get(url, headers=auth(owner))).json()["score"] == 4


async def test_reports_count_volume_first_responses_breaches_and_csat_per_plan(http: httpx.AsyncClient) -> None:
    agent = person("alice", role="agent")
    before = (await http.get("/api/reports?days=7", headers=auth(agent))).json()
    owner = person("priya", "premium")
    ticket = await open_ticket(http, owner)
    answer = await http.post(
        f"/api/tickets/{ticket['id']}/messages", headers=auth(agent), json={"body": "On it", "client_id": "a1"}
    )
    assert answer.status_code == 201
    await http.patch(f"/api/tickets/{ticket['id']}", headers=auth(agent), json={"status": "solved"})
    await http.post(f"/api/tickets/{ticket['id']}/csat", headers=auth(owner), json={"score": 5})
    view = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(owner))).json()["ticket"]
    assert view["first_response_breached"] is False  # answered well within the hour

    after = (await http.get("/api/reports?days=7", headers=auth(agent))).json()
    old = {p["plan"]: p for p in before["plans"]}["premium"]
    new = {p["plan"]: p for p in after["plans"]}["premium"]
    assert [p["plan"] for p in after["plans"]] == ["premium", "pro_plus", "pro", "free"]
    assert new["volume"] == old["volume"] + 1 and new["met"] == old["met"] + 1
    assert new["first_response"]["count"] == old["first_response"]["count"] + 1
    assert new["resolution"]["count"] == old["resolution"]["count"] + 1
    assert new["csat"]["count"] == old["csat"]["count"] + 1 and new["csat"]["distribution"]["5"] >= 1
    assert after["total"]["volume"] == before["total"]["volume"] + 1
    assert (await http.get("/api/reports?days=0", headers=auth(agent))).status_code == 400


async def test_reports_page_is_served(http: httpx.AsyncClient) -> None:
    page = await http.get("/reports")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "reports.js" in page.text


async def test_agents_set_themselves_away(http: httpx.AsyncClient) -> None:
    agent = person("alice", role="agent")
    away = await http.put("/api/agents/me", headers=auth(agent), json={"away": True})
    assert away.status_code == 200 and away.json()["away"] is True
    back = await http.patch("/api/agents/me", headers=auth(agent), json={"away": False})
    assert back.json()["away"] is False


AGENT_ONLY = [
    ("GET", "/api/signals", None),
    ("POST", "/api/signals/sig-x/review", None),
    ("GET", "/api/agents", None),
    ("PUT", "/api/agents/me", {"away": True}),
    ("GET", "/api/canned", None),
    ("POST", "/api/canned", {"title": "t", "body": "b"}),
    ("PATCH", "/api/canned/c1", {"title": "t"}),
    ("DELETE", "/api/canned/c1", None),
    ("POST", "/api/canned/c1/render", {"ticket": "t1"}),
    ("GET", "/api/reports?days=7", None),
]


@pytest.mark.parametrize("method,path,body", AGENT_ONLY)
async def test_customers_are_refused_agent_endpoints(
    http: httpx.AsyncClient, method: str, path: str, body: dict | None
) -> None:
    response = await http.request(method, path, headers=auth(person("cust", "premium")), json=body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert (await http.request(method, path, json=body)).status_code == 401
