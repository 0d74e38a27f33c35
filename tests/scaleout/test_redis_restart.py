"""A private redis-server killed and restarted under a gateway and a worker: with AOF (appendfsync always)
nothing acked is lost; without persistence no seq is ever reused and old client ids stay idempotent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.scaleout.cluster import Cluster, kept_alive, open_ticket, person, wait_for_history
from tests.scaleout.conftest import drop_prefix
from tests.scaleout.processes import PrivateRedis
from tests.services import Gateway
from tests.wsclient import Client


@pytest.fixture
def private_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, durable=request.param == "aof").start()
    yield server
    server.kill()


@pytest.fixture
def restart_cluster(pg_url: str, private_redis: PrivateRedis) -> Iterator[Cluster]:
    cluster = Cluster(pg_url, private_redis.url)
    yield cluster
    cluster.stop()
    drop_prefix(private_redis.url, cluster.prefix)


async def readiness(node: Gateway) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(node.url + "/readyz")).status_code


async def until_ready(node: Gateway, want: int, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await readiness(node) != want:
        assert asyncio.get_running_loop().time() < deadline, f"/readyz never answered {want}"
        await asyncio.sleep(0.1)


async def send_refused(client: Client, ticket: str, client_id: str) -> dict:
    await client.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": "while Redis is down"})
    return await client.expect("error", ref=client_id, timeout=10)


@pytest.mark.parametrize("private_redis", ["aof"], indirect=True)
async def test_redis_restart_with_aof_loses_nothing_acked(
    restart_cluster: Cluster, private_redis: PrivateRedis
) -> None:
    node = restart_cluster.node()
    restart_cluster.worker()
    anna_token = person("anna")
    ticket = await open_ticket(node, anna_token)
    anna = await Client.connect(node.ws_url, anna_token)
    async with kept_alive(anna):
        await anna.join(ticket)
        before = [(await anna.say(ticket, f"before {i}"))["seq"] for i in range(20)]
        assert before == list(range(2, 22))

        private_redis.kill()  # kill -9: only what appendfsync always put on disk survives
        await until_ready(node, 503)
        refused = await send_refused(anna, ticket, "during-outage")
        assert refused["code"] == "unavailable"
        assert not anna.of_type("ack", client_id="during-outage")

        private_redis.start()
        await until_ready(node, 200)
        after = [(await anna.say(ticket, f"after {i}"))["seq"] for i in range(20)]
        assert after == list(range(22, 42))
        await anna.expect("message", ticket=ticket, seq=41)  # live fan-out resumed on its own
    stored = await wait_for_history(restart_cluster.database_url, ticket, 41)
    assert [m.seq for m in stored] == list(range(1, 42))
    assert [m.body for m in stored[1:]] == [f"before {i}" for i in range(20)] + [f"after {i}" for i in range(20)]
    await anna.close()


@pytest.mark.parametrize("private_redis", ["volatile"], indirect=True)
async def test_redis_restart_without_persistence_never_reuses_a_seq(
    restart_cluster: Cluster, private_redis: PrivateRedis
) -> None:
    node = restart_cluster.node()
    restart_cluster.worker()
    anna_token = person("anna")
    ticket = await open_ticket(node, anna_token)
    anna = await Client.connect(node.ws_url, anna_token)
    async with kept_alive(anna):
        await anna.join(ticket)
        for i in range(10):
            await anna.say(ticket, f"before {i}", client_id=f"before-{i}")
        await wait_for_history(restart_cluster.database_url, ticket, 11)  # the worker wrote them

        private_redis.kill()
        private_redis.start()  # empty: counters, client ids, streams and the consumer group are gone
        await until_ready(node, 200)
        fresh = await anna.say(ticket, "after the loss", client_id="after-0")
        assert fresh["seq"] == 12
        again = await anna.say(ticket, "before 3, sent again", client_id="before-3")
        assert again["seq"] == 5  # the first commit of that client id, not a new message
    stored = await wait_for_history(restart_cluster.database_url, ticket, 12)
    assert [(m.seq, m.body) for m in stored][-3:] == [(10, "before 8"), (11, "before 9"), (12, "after the loss")]
    assert len(stored) == 12
    await anna.close()
