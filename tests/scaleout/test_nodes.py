"""Several `helpline gateway` processes and `helpline worker` on real Redis and PostgreSQL, no sticky sessions."""

from __future__ import annotations

import asyncio
import uuid
from typing import Callable

import httpx

from tests.scaleout.cluster import (
    HEARTBEAT_S,
    PRESENCE_TTL_S,
    Cluster,
    kept_alive,
    open_ticket,
    person,
    seen_seqs,
    wait_for_history,
)
from tests.scaleout.processes import Worker
from tests.services import Gateway, free_port
from tests.wsclient import Client


async def worker_lag(node: Gateway, until: Callable[[float], bool], timeout: float = 15.0) -> float:
    """The helpline_worker_lag a gateway node exports, once it satisfies `until` (or at the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            text = (await http.get(node.url + "/metrics")).text
            lag = next(float(line.split()[1]) for line in text.splitlines() if line.startswith("helpline_worker_lag "))
            if until(lag) or asyncio.get_running_loop().time() > deadline:
                return lag
            await asyncio.sleep(0.2)


async def test_customer_and_agent_on_different_nodes_see_each_other(cluster: Cluster) -> None:
    a, b = cluster.node(), cluster.node()
    worker = cluster.worker()
    anna_token, alice_token = person("anna"), person("alice", role="agent")
    ticket = await open_ticket(a, anna_token)
    anna = await Client.connect(a.ws_url, anna_token)
    alice = await Client.connect(b.ws_url, alice_token)
    async with kept_alive(anna, alice):
        await anna.join(ticket)
        joined = await alice.join(ticket)
        assert sorted(u["name"] for u in joined["presence"]) == ["Alice", "Anna"]
        online = await anna.expect("presence", ticket=ticket, online=True)
        assert online["user"]["name"] == "Alice"

        await anna.say(ticket, "It is still stuck", client_id="anna-1")
        got = await alice.expect("message", ticket=ticket, client_id="anna-1")
        assert got["body"] == "It is still stuck" and got["seq"] == 2

        await alice.send({"type": "typing", "ticket": ticket, "active": True})
        typing = await anna.expect("typing", ticket=ticket)
        assert typing["user"]["name"] == "Alice" and typing["active"] is True
        await alice.say(ticket, "Cancelling it for you now", client_id="alice-1")
        reply = await anna.expect("message", ticket=ticket, client_id="alice-1")
        assert reply["seq"] == 3 and reply["author"]["role"] == "agent"

        await anna.send({"type": "read", "ticket": ticket, "seq": 3})
        receipt = await alice.expect("read", ticket=ticket)
        assert receipt["seq"] == 3 and receipt["user"]["name"] == "Anna"

        await anna.close()
        offline = await alice.expect("presence", ticket=ticket, online=False)
        assert offline["user"]["name"] == "Anna"
    stored = await wait_for_history(cluster.database_url, ticket, 3)
    assert [(m.seq, m.body) for m in stored] == [
        (1, "My limit order is stuck."),
        (2, "It is still stuck"),
        (3, "Cancelling it for you now"),
    ]
    assert worker.stop() == 0  # SIGTERM: a clean stop after the batch in hand
    await alice.close()


async def test_worker_killed_mid_burst_leaves_every_acked_message_once(cluster: Cluster) -> None:
    node = cluster.node()
    worker = cluster.worker()
    anna_token = person("anna")
    ticket = await open_ticket(node, anna_token)
    anna = await Client.connect(node.ws_url, anna_token)
    await anna.join(ticket)
    client_ids = [f"burst-{i}-{uuid.uuid4().hex[:6]}" for i in range(500)]
    for i, client_id in enumerate(client_ids):
        await anna.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": f"line {i}"})
        if i == 150:
            await anna.until(lambda frames: sum(f["type"] == "ack" for f in frames) >= 100)
            worker.kill()  # kill -9 in the middle of the burst
    await anna.until(lambda frames: sum(f["type"] == "ack" for f in frames) >= 500, timeout=30)
    acked = {f["client_id"]: f["seq"] for f in anna.of_type("ack")}
    assert len(acked) == 500 and sorted(acked.values()) == list(range(2, 502))
    # With no worker alive the node's /metrics shows the unwritten messages; then the lag drains to zero.
    assert await worker_lag(node, lambda lag: lag >= 300) >= 300
    metrics_port = free_port()
    replacement = Worker(
        cluster.database_url,
        cluster.redis_url,
        cluster.prefix,
        **{**cluster.env, "HELPLINE_WORKER_METRICS_PORT": str(metrics_port)},
    ).start()
    cluster.workers.append(replacement)  # it claims what the dead one left pending
    stored = await wait_for_history(cluster.database_url, ticket, 501)
    assert [m.seq for m in stored] == list(range(1, 502))  # once each, no gap
    assert {m.client_id: m.seq for m in stored if m.seq > 1} == acked
    assert await worker_lag(node, lambda lag: lag == 0) == 0
    # The worker's own gauge is refreshed by its maintenance round, so it may still show the backlog it found at
    # start for a moment after the node's view reached zero: read it until it does too (bounded).
    deadline = asyncio.get_running_loop().time() + 15
    async with httpx.AsyncClient() as http:
        while True:
            own = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            if "helpline_worker_lag 0.0" in own or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
    assert "helpline_worker_written_total" in own and "helpline_worker_lag 0.0" in own
    await anna.close()


async def test_client_of_a_killed_node_recovers_on_another_with_since(cluster: Cluster) -> None:
    a, b = cluster.node(), cluster.node()
    cluster.worker()
    anna_token, alice_token = person("anna"), person("alice", role="agent")
    ticket = await open_ticket(a, anna_token)
    anna = await Client.connect(a.ws_url, anna_token)
    alice = await Client.connect(b.ws_url, alice_token)
    async with kept_alive(alice):
        await anna.join(ticket)
        await alice.join(ticket)
        await alice.say(ticket, "Hello Anna")
        await anna.expect("message", ticket=ticket, seq=2)
        last_seen = max(seen_seqs(anna, ticket))

        a.kill()  # kill -9 of node A: anna's socket drops, nobody says she left
        for i in range(5):
            await alice.say(ticket, f"missed {i}")
        # Offline for everyone once her presence expires unrenewed: within about two heartbeats (plus slack).
        offline = await alice.expect(
            "presence", ticket=ticket, online=False, timeout=2 * HEARTBEAT_S + PRESENCE_TTL_S + 2
        )
        assert offline["user"]["name"] == "Anna"

        back = await Client.connect(b.ws_url, anna_token)  # the load balancer sends her to node B
        async with kept_alive(back):
            joined = await back.join(ticket, since=last_seen)
            assert [(m["seq"], m["body"]) for m in joined["messages"]] == [(3 + i, f"missed {i}") for i in range(5)]
            assert joined["last_seq"] == 7
            await alice.expect("presence", ticket=ticket, online=True)
            await alice.say(ticket, "Welcome back")
            live = await back.expect("message", ticket=ticket)
            assert live["seq"] == 8
        await back.close()
    await alice.close()
