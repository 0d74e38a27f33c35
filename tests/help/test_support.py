"""Support channels per plan and the premium callback line on a real gateway: refused below premium,
queued for agents at priority 1 (HTTP and the live queue), marked done by an agent."""

from __future__ import annotations

import httpx

from tests.help.conftest import HOURS, PHONE, HelpGateway, auth, person
from tests.wsclient import Client


async def test_every_plan_chats_and_premium_also_phones(http: httpx.AsyncClient) -> None:
    kinds = {}
    for plan in ("free", "pro", "pro_plus", "premium"):
        response = await http.get("/api/support/options", headers=auth(person("opal", plan)))
        assert response.status_code == 200 and response.json()["plan"] == plan
        kinds[plan] = [c["kind"] for c in response.json()["channels"]]
    assert kinds == {"free": ["chat"], "pro": ["chat"], "pro_plus": ["chat"], "premium": ["chat", "phone", "callback"]}
    premium = (await http.get("/api/support/options", headers=auth(person("pia", "premium")))).json()
    phone = next(c for c in premium["channels"] if c["kind"] == "phone")
    assert phone["number"] == PHONE and phone["hours"] == HOURS
    free = (await http.get("/api/support/options", headers=auth(person("fred")))).json()
    assert "read and acted on" in free["channels"][0]["note"]
    assert (await http.get("/api/support/options")).status_code == 401


async def test_callbacks_are_refused_below_premium(http: httpx.AsyncClient) -> None:
    for token in (
        person("frank"),
        person("petra", "pro"),
        person("quinn", "pro_plus"),
        person("alan", "premium", "agent"),
    ):
        response = await http.post("/api/callbacks", headers=auth(token), json={"phone": "+1 555 0100 200"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


async def test_a_premium_callback_reaches_the_agents_and_is_marked_done(
    gateway: HelpGateway, http: httpx.AsyncClient
) -> None:
    agent_token = person("alice", role="agent")
    agent = await Client.connect(gateway.ws_url, agent_token)
    try:
        await agent.send({"type": "queue"})
        await agent.expect("queue")
        priya = person("priya", "premium")
        bad = await http.post("/api/callbacks", headers=auth(priya), json={"phone": "call me maybe"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        response = await http.post(
            "/api/callbacks",
            headers=auth(priya),
            json={
                "phone": "+44 20 7946 0018",
                "preferred_time": "after 16:00 UTC",
                "note": "Margin call question",
                "client_id": "cb-1",
            },
        )
        assert response.status_code == 201
        callback = response.json()
        assert callback["status"] == "requested" and callback["phone"] == "+44 20 7946 0018"
        again = await http.post(
            "/api/callbacks", headers=auth(priya), json={"phone": "+44 20 7946 0018", "client_id": "cb-1"}
        )
        assert again.status_code == 200 and again.json()["id"] == callback["id"]

        await agent.until(
            lambda frames: any(f["type"] == "ticket" and f["ticket"]["id"] == callback["ticket"] for f in frames)
        )
        pushed = [f["ticket"] for f in agent.of_type("ticket") if f["ticket"]["id"] == callback["ticket"]][0]
        assert pushed["priority"] == 1 and pushed["category"] == "callback" and pushed["plan"] == "premium"

        to_call = (await http.get("/api/callbacks", headers=auth(agent_token))).json()["callbacks"]
        assert callback["id"] in [c["id"] for c in to_call]
        thread = (await http.get(f"/api/tickets/{callback['ticket']}", headers=auth(agent_token))).json()
        assert "+44 20 7946 0018" in thread["messages"][0]["body"]
        assert "after 16:00 UTC" in thread["messages"][0]["body"]
        own = (await http.get("/api/callbacks", headers=auth(priya))).json()["callbacks"]
        assert [c["id"] for c in own] == [callback["id"]]

        refused = await http.post(f"/api/callbacks/{callback['id']}/done", headers=auth(priya))
        assert refused.status_code == 403
        done = await http.post(f"/api/callbacks/{callback['id']}/done", headers=auth(agent_token))
        assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_at"]
        to_call = (await http.get("/api/callbacks", headers=auth(agent_token))).json()["callbacks"]
        assert callback["id"] not in [c["id"] for c in to_call]
        ticket = (await http.get(f"/api/tickets/{callback['ticket']}", headers=auth(priya))).json()["ticket"]
        assert ticket["status"] == "solved"
        for unknown in ("nope", "ffffffffffff", "a%00b"):
            missing = await http.post(f"/api/callbacks/{unknown}/done", headers=auth(agent_token))
            assert missing.status_code == 404
    finally:
        await agent.close()
