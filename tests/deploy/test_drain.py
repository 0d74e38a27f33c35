"""Graceful drain (issue 16): on SIGTERM a gateway turns /readyz to 503, refuses new WebSockets, tells its clients
to move with 1001 spread over HELPLINE_DRAIN_S, answers the frames in hand, and exits 0; the worker acks its batch
and exits 0."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from realtime.bus.redis import layout as layout
from support.core.stream import PERSIST_GROUP
from tests.scaleout.cluster import Cluster, history, open_ticket, person, wait_for_history
from tests.scaleout.processes import Worker
from tests.services import Gateway, free_port, migrate, sqlite_url, token
from tests.wsclient import Client

WINDOW_S = 2.0
CLIENTS = 30


@pytest.fixture
def drained_node(tmp_path: Path) -> Any:
    url = sqlite_url(tmp_path)
    migrate(url)
    node = Gateway(url, HELPLINE_DRAIN_S=str(WINDOW_S), HELPLINE_HEARTBEAT_S="60").start()
    yield node
    node.kill()


async def _closed_at(client: Client) -> float:
    await client._reader
    return time.monotonic()


async def test_sigterm_turns_readyz_503_and_moves_clients_over_the_window_then_exits_0(drained_node: Gateway) -> None:
    node = drained_node
    clients = [await Client.connect(node.ws_url, token(f"drain-{i}")) for i in range(CLIENTS)]
    closes = [asyncio.create_task(_closed_at(c)) for c in clients]
    assert node.process is not None
    node.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()

    async with httpx.AsyncClient(base_url=node.url, timeout=2) as http:
        deadline = time.monotonic() + 1.5
        while (ready := await http.get("/readyz")).status_code == 200:
            assert time.monotonic() < deadline, "/readyz still 200 after SIGTERM"
            await asyncio.sleep(0.02)
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        assert (await http.get("/healthz")).status_code == 200  # alive, only not taking new work
    with pytest.raises(InvalidStatus) as refused:
        await connect(node.ws_url, open_timeout=2)
    assert refused.value.response.status_code == 503

    closed = [t - signalled for t in await asyncio.wait_for(asyncio.gather(*closes), WINDOW_S + 8)]
    assert [c.closed_code for c in clients] == [1001] * CLIENTS
    assert all(c.ws.close_reason and "going away" in c.ws.close_reason for c in clients)
    assert max(closed) - min(closed) >= WINDOW_S / 2, sorted(closed)  # spread, not one wave
    busiest = max(sum(1 for t in closed if b / 10 <= t < (b + 1) / 10) for b in range(int(WINDOW_S * 10) + 10))
    assert busiest <= CLIENTS // 3, sorted(closed)
    assert max(closed) <= WINDOW_S + 1.0
    assert await asyncio.to_thread(node.process.wait, 15) == 0


async def test_sends_in_flight_during_the_drain_are_acked_or_resent_elsewhere_once(cluster: Cluster) -> None:
    cluster.env["HELPLINE_DRAIN_S"] = "1"
    leaving, staying = cluster.node(), cluster.node()
    cluster.worker()
    customer = person("mover")
    ticket = await open_ticket(leaving, customer)
    client = await Client.connect(leaving.ws_url, customer)
    await client.send({"type": "join", "ticket": ticket})
    await client.expect("joined", ticket=ticket)

    sent: list[str] = []

    async def keep_sending() -> None:
        while client.closed_code is None and len(sent) < 2000:
            client_id = f"m{len(sent)}"
            sent.append(client_id)
            try:
                await client.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": client_id})
            except Exception:
                sent.pop()
                return
            await asyncio.sleep(0.002)

    sender = asyncio.create_task(keep_sending())
    await client.until(lambda frames: sum(1 for f in frames if f["type"] == "ack") >= 50, 20)  # sends flowing
    assert leaving.process is not None
    leaving.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(sender, 15)
    assert client.closed_code == 1001
    assert await asyncio.to_thread(leaving.process.wait, 15) == 0

    acked = {f["client_id"]: f["seq"] for f in client.of_type("ack")}
    errors = client.of_type("error")
    assert all(e["code"] == "unavailable" for e in errors), errors  # the only error a client is told to retry
    unacked = [c for c in sent if c not in acked]

    again = await Client.connect(staying.ws_url, customer)
    await again.send({"type": "join", "ticket": ticket, "since": max(acked.values(), default=1)})
    await again.expect("joined", ticket=ticket)
    for client_id in unacked:  # what the widget's outbox does after a reconnect
        await again.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": client_id})
    await again.until(lambda frames: {f["client_id"] for f in frames if f["type"] == "ack"} >= set(unacked), 20)
    acked.update({f["client_id"]: f["seq"] for f in again.of_type("ack")})
    await again.ws.close()

    messages = await wait_for_history(cluster.database_url, ticket, len(sent) + 1)
    by_client_id = {m.client_id: m.seq for m in messages if m.client_id in acked}
    assert by_client_id == acked
    assert len([m for m in messages if m.client_id in set(sent)]) == len(sent) > 50
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    assert len(acked) == len(sent) and len(unacked) < len(sent)
    assert await history(cluster.database_url, ticket) == messages


async def _until_serving(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1) as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{url} did not answer within {timeout}s"
            await asyncio.sleep(0.1)


async def test_worker_on_sigterm_acks_what_it_wrote_and_exits_0(cluster: Cluster) -> None:
    node = cluster.node()
    metrics_port = free_port()
    worker = Worker(
        cluster.database_url,
        cluster.redis_url,
        cluster.prefix,
        **cluster.env,
        HELPLINE_WORKER_METRICS_PORT=str(metrics_port),
    ).start()
    cluster.workers.append(worker)
    customer = person("batcher")
    ticket = await open_ticket(node, customer)
    client = await Client.connect(node.ws_url, customer)
    await client.send({"type": "join", "ticket": ticket})
    await client.expect("joined", ticket=ticket)
    await _until_serving(f"http://127.0.0.1:{metrics_port}/metrics")  # past start-up: SIGTERM is its to handle

    async def send(count: int) -> None:
        for i in range(count):
            await client.send({"type": "send", "ticket": ticket, "client_id": f"w{i}", "body": f"w{i}"})

    sending = asyncio.create_task(send(3000))
    await wait_for_history(cluster.database_url, ticket, 2)  # batches are being written when the signal comes
    assert await asyncio.to_thread(worker.stop) == 0
    await sending
    await client.until(lambda frames: sum(1 for f in frames if f["type"] == "ack") == 3000, 30)
    stream = layout.Keys(cluster.prefix).persist
    r = aioredis.from_url(cluster.redis_url)
    try:
        pending = await r.xpending(stream, PERSIST_GROUP)
    finally:
        await r.aclose()
    assert pending["pending"] == 0  # nothing it read was left unacknowledged for another worker to claim
    written = len(await history(cluster.database_url, ticket))
    assert 1 < written < 3001  # it stopped part way, after a batch
    cluster.worker()  # the next one writes whatever was not read yet
    assert len(await wait_for_history(cluster.database_url, ticket, 3001)) == 3001
    await client.ws.close()
