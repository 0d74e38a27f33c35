"""Agent status and capacity on real gateways: a capacity caps what auto-assignment gives an agent (SQLite and
PostgreSQL), and an agent's away flag reaches the team's queue watchers on another node, live, over Redis."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from tests.scaleout.conftest import drop_prefix
from tests.services import REDIS_URL, Gateway, migrate, postgres_database, require_redis
from tests.workflow.conftest import WORKFLOW_ENV, auth, token
from tests.workflow.test_assignment import Desk, desk  # noqa: F401 - the fixture is shared with that suite
from tests.wsclient import Client


async def test_capacity_caps_auto_assignment_and_frees_up_when_a_ticket_is_solved(desk: Desk) -> None:  # noqa: F811
    run = uuid.uuid4().hex[:6]
    ann, ben = f"{run}-ann", f"{run}-ben"
    node = desk.start()
    for agent in (ann, ben):
        await desk.watch(agent)
    async with httpx.AsyncClient(base_url=node.url, timeout=20) as http:
        set_cap = await http.put("/api/agents/me", headers=auth(token(ann, role="agent")), json={"capacity": 1})
        assert set_cap.status_code == 200, set_cap.text
        assert set_cap.json()["capacity"] == 1 and set_cap.json()["away"] is False
        picks = [await desk.assignee_of_new_ticket(http) for _ in range(4)]
        assert picks == [ann, ben, ben, ben]  # ann holds one active ticket: full
        agents = {a["id"]: a for a in (await http.get("/api/agents", headers=auth(token(ben, role="agent")))).json()}
        assert (agents[ann]["capacity"], agents[ann]["open_assigned"]) == (1, 1)
        assert (agents[ben]["capacity"], agents[ben]["open_assigned"]) == (None, 3)

        mine = (await http.get("/api/tickets?assignee=me", headers=auth(token(ann, role="agent")))).json()["tickets"]
        solved = await http.patch(
            f"/api/tickets/{mine[0]['id']}", headers=auth(token(ann, role="agent")), json={"status": "solved"}
        )
        assert solved.status_code == 200
        assert await desk.assignee_of_new_ticket(http) == ann  # room again, and next after ben in the rotation

        # 0 takes an online agent out of the rotation; null lifts the limit; a negative one is refused.
        await http.put("/api/agents/me", headers=auth(token(ben, role="agent")), json={"capacity": 0})
        assert await desk.assignee_of_new_ticket(http) is None  # ann full again, ben at 0
        lifted = await http.put("/api/agents/me", headers=auth(token(ann, role="agent")), json={"capacity": None})
        assert lifted.json()["capacity"] is None
        assert await desk.assignee_of_new_ticket(http) == ann
        unchanged = await http.put("/api/agents/me", headers=auth(token(ann, role="agent")), json={})
        assert (unchanged.status_code, unchanged.json()["capacity"], unchanged.json()["away"]) == (200, None, False)
        for bad in ({"capacity": -1}, {"capacity": "3"}, {"capacity": 1001}):
            refused = await http.put("/api/agents/me", headers=auth(token(ann, role="agent")), json=bad)
            assert refused.status_code == 400, bad
        customer = await http.put("/api/agents/me", headers=auth(token(f"{run}-cust")), json={"capacity": 2})
        assert customer.status_code == 403


def agent_frame(frame: dict, agent_id: str, **fields: object) -> bool:
    return (
        frame.get("type") == "agent"
        and frame["agent"]["id"] == agent_id
        and all(frame.get(k) == v for k, v in fields.items())
    )


@pytest.fixture
def two_nodes() -> Iterator[tuple[Gateway, Gateway]]:
    require_redis()
    prefix = f"hl-test-status-{uuid.uuid4().hex[:8]}"
    for url in postgres_database():
        migrate(url)
        env = {**WORKFLOW_ENV, "HELPLINE_KEY_PREFIX": prefix, "HELPLINE_HEARTBEAT_S": "2"}
        first = Gateway(url, REDIS_URL, **env).start()
        second = Gateway(url, REDIS_URL, **env).start()
        try:
            yield first, second
        finally:
            first.stop()
            second.stop()
            drop_prefix(REDIS_URL, prefix)


async def test_an_agents_status_reaches_the_team_on_another_node_live(two_nodes: tuple[Gateway, Gateway]) -> None:
    one, two = two_nodes
    run = uuid.uuid4().hex[:6]
    ann, ben = f"{run}-ann", f"{run}-ben"
    watcher = await Client.connect(one.ws_url, token(ann, role="agent", name="Ann"))
    await watcher.send({"type": "queue"})
    await watcher.expect("queue")
    other = await Client.connect(two.ws_url, token(ben, role="agent", name="Ben"))
    try:
        await other.send({"type": "queue"})
        await other.expect("queue")
        await watcher.until(lambda fs: any(agent_frame(f, ben, online=True, away=None) for f in fs))  # node two

        async with httpx.AsyncClient(base_url=two.url, timeout=20) as http:
            r = await http.put(
                "/api/agents/me", headers=auth(token(ben, role="agent", name="Ben")), json={"away": True, "capacity": 3}
            )
            assert r.status_code == 200, r.text
        await watcher.until(lambda fs: any(agent_frame(f, ben, online=True, away=True, capacity=3) for f in fs))
        status = next(f for f in watcher.frames if agent_frame(f, ben, away=True))
        assert status["agent"] == {"id": ben, "name": "Ben", "role": "agent"}
        async with httpx.AsyncClient(base_url=one.url, timeout=20) as http:
            seen = (await http.get("/api/agents", headers=auth(token(ann, role="agent")))).json()
        assert {a["id"]: (a["away"], a["capacity"]) for a in seen if a["id"].startswith(run)} == {
            ann: (False, None),
            ben: (True, 3),
        }
        await other.ws.close()
        await watcher.until(lambda fs: any(agent_frame(f, ben, online=False) for f in fs), timeout=15)
    finally:
        await watcher.ws.close()
        await other.ws.close()
