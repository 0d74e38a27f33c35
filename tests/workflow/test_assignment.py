"""Automatic assignment on a real gateway: round-robin among agents watching the queue, skipping the away ones,
and resuming where it stopped after a restart (the cursor is in the database). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import AsyncIterator

import httpx
import pytest

from tests.services import Gateway
from tests.workflow.conftest import WORKFLOW_ENV, auth, person, token
from tests.wsclient import Client

ENV = {**WORKFLOW_ENV, "HELPLINE_AUTO_ASSIGN": "true"}


class Desk:
    """A gateway node with auto-assignment and the agents' WebSocket connections watching its queue."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.node: Gateway | None = None
        self.agents: dict[str, Client] = {}

    def start(self) -> Gateway:
        self.node = Gateway(self.database_url, **ENV).start()
        return self.node

    async def watch(self, agent_id: str) -> None:
        assert self.node is not None
        client = await Client.connect(self.node.ws_url, token(agent_id, role="agent"))
        await client.send({"type": "queue"})
        await client.expect("queue")
        self.agents[agent_id] = client

    async def leave(self, agent_id: str) -> None:
        await self.agents.pop(agent_id).ws.close()

    async def stop(self) -> None:
        for client in self.agents.values():
            await client.ws.close()
        self.agents.clear()
        if self.node:
            self.node.stop()

    async def assignee_of_new_ticket(self, http: httpx.AsyncClient) -> str | None:
        response = await http.post(
            "/api/tickets", headers=auth(person("cust", "pro")), json={"subject": "Help", "body": "please"}
        )
        assert response.status_code == 201
        return response.json()["assignee"]


async def wait_offline(http: httpx.AsyncClient, agent_id: str, viewer: str) -> None:
    """The server notices a closed WebSocket on its own time; wait for it rather than sleep."""
    for _ in range(200):
        agents = (await http.get("/api/agents", headers=auth(viewer))).json()
        if agent_id not in {a["id"] for a in agents}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{agent_id} still online")


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    desk = Desk(database_url)
    yield desk
    await desk.stop()


async def test_round_robin_skips_away_agents_and_survives_a_restart(desk: Desk) -> None:
    run = uuid.uuid4().hex[:6]
    ann, ben, cat = f"{run}-ann", f"{run}-ben", f"{run}-cat"
    node = desk.start()
    for agent in (ann, ben, cat):
        await desk.watch(agent)
    async with httpx.AsyncClient(base_url=node.url, timeout=20) as http:
        away = await http.put("/api/agents/me", headers=auth(token(ben, role="agent")), json={"away": True})
        assert away.status_code == 200
        online = (await http.get("/api/agents", headers=auth(token(ann, role="agent")))).json()
        assert {a["id"]: a["away"] for a in online if a["id"].startswith(run)} == {ann: False, ben: True, cat: False}
        picks = [await desk.assignee_of_new_ticket(http) for _ in range(3)]
        assert picks == [ann, cat, ann]
        # The assignment is what the queue shows, too.
        queue = (await http.get("/api/tickets?assignee=me", headers=auth(token(cat, role="agent")))).json()
        assert len(queue["tickets"]) == 1

    await desk.stop()
    node = desk.start()  # a new process on the same database: ben is still away, the cursor is still at ann
    for agent in (ann, ben, cat):
        await desk.watch(agent)
    async with httpx.AsyncClient(base_url=node.url, timeout=20) as http:
        assert await desk.assignee_of_new_ticket(http) == cat
        await desk.leave(cat)  # an agent who closes the dashboard is no longer online
        await wait_offline(http, cat, token(ann, role="agent"))
        assert [await desk.assignee_of_new_ticket(http) for _ in range(2)] == [ann, ann]
        await http.put("/api/agents/me", headers=auth(token(ann, role="agent")), json={"away": True})
        await http.put("/api/agents/me", headers=auth(token(ben, role="agent")), json={"away": False})
        assert await desk.assignee_of_new_ticket(http) == ben


async def test_without_agents_online_a_ticket_waits_unassigned(desk: Desk) -> None:
    node = desk.start()
    async with httpx.AsyncClient(base_url=node.url, timeout=20) as http:
        # Agents who merely hold a token, or set a flag over HTTP, are not online: only watching the queue counts.
        await http.put("/api/agents/me", headers=auth(token("idle-agent", role="agent")), json={"away": False})
        assert await desk.assignee_of_new_ticket(http) is None
