"""Webhooks in the scale-out deployment: gateway nodes on Redis commit, the worker writes the history and, from
the same side, delivers each event once (the gateways deliver nothing themselves)."""

from __future__ import annotations

import asyncio

import httpx

from tests.integrations.conftest import ADMIN, GATEWAY_ENV, auth
from tests.integrations.receiver import Receiver
from tests.scaleout.cluster import Cluster, person
from tests.scaleout.conftest import cluster, pg_url  # noqa: F401 - Redis + PostgreSQL fixtures of the scale-out suite


async def test_the_worker_delivers_each_event_once(cluster: Cluster, receiver: Receiver) -> None:  # noqa: F811
    cluster.env.update(GATEWAY_ENV)
    first, second = cluster.node(), cluster.node()
    async with httpx.AsyncClient(base_url=first.url) as http:
        hook = (
            await http.post(
                "/api/admin/webhooks",
                headers=auth(ADMIN),
                json={"url": receiver.url, "events": ["ticket.created", "message.created"]},
            )
        ).json()
        customer = person("kim")
        tid = (
            await http.post("/api/tickets", headers=auth(customer), json={"subject": "Stuck", "body": "one"})
        ).json()["id"]
    async with httpx.AsyncClient(base_url=second.url) as http:
        sent = await http.post(
            f"/api/tickets/{tid}/messages", headers=auth(customer), json={"body": "two", "client_id": "c2"}
        )
        assert sent.status_code == 201
    await asyncio.sleep(1.0)
    # Nothing before a worker runs: gateways on Redis never deliver webhooks themselves.
    assert receiver.received() == []
    cluster.worker()
    for _ in range(300):
        if len(receiver.received()) >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    got = sorted((r.event["type"], r.event["data"].get("message", {}).get("seq")) for r in receiver.received())
    assert got == [("message.created", 1), ("message.created", 2), ("ticket.created", None)]
    async with httpx.AsyncClient(base_url=first.url) as http:
        log = (await http.get(f"/api/admin/webhooks/{hook['id']}/deliveries", headers=auth(ADMIN))).json()
    assert sorted(d["status"] for d in log["deliveries"]) == ["delivered"] * 3
