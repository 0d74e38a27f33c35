"""A gateway and a worker behind Redis Sentinel (one primary, two replicas, three sentinels): a failover while a
client sends loses nothing acked and shows nothing twice; with MIN_REPLICAS=1 a commit no replica has is not acked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis.asyncio
import redis.exceptions

from realtime.bus.redis.scripts import Scripts
from tests.scaleout.cluster import Cluster, kept_alive, open_ticket, person, wait_for_history
from tests.scaleout.sentinels import SentinelDeployment
from tests.wsclient import Client


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelDeployment]:
    deployment = SentinelDeployment(tmp_path)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.fixture
def sentinel_cluster(pg_url: str, sentinels: SentinelDeployment) -> Iterator[Cluster]:
    cluster = Cluster(pg_url, sentinels.url)
    cluster.env["HELPLINE_REDIS_WAIT_TIMEOUT_MS"] = "300"
    yield cluster
    cluster.stop()


async def send_until_acked(
    client: Client, ticket: str, client_id: str, refusals: list[dict[str, Any]], timeout: float = 20.0
) -> int:
    """Send, and on `unavailable` send again with the same client_id (as the widget does); the acked seq."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await client.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": f"message {client_id}"})
        outcome = await first_answer(client, client_id)
        if outcome["type"] == "ack":
            return int(outcome["seq"])
        refusals.append(outcome)
        assert outcome["code"] == "unavailable", outcome
        assert asyncio.get_running_loop().time() < deadline, f"{client_id} was never acked"
        await asyncio.sleep(0.2)


async def first_answer(client: Client, client_id: str) -> dict[str, Any]:
    seen = len(client.frames)

    def answered(frames: list[dict[str, Any]]) -> bool:
        return any(is_answer(f, client_id) for f in frames[seen:])

    await client.until(answered, timeout=15)
    return next(f for f in client.frames[seen:] if is_answer(f, client_id))


def is_answer(frame: dict[str, Any], client_id: str) -> bool:
    return (frame.get("type") == "ack" and frame.get("client_id") == client_id) or (
        frame.get("type") == "error" and frame.get("ref") == client_id
    )


@pytest.mark.parametrize("how", ["sentinel failover", "kill -9 of the primary"])
async def test_a_failover_while_sending_loses_nothing_acked(
    sentinel_cluster: Cluster, sentinels: SentinelDeployment, how: str
) -> None:
    node = sentinel_cluster.node()
    sentinel_cluster.worker()
    anna_token = person("anna")
    ticket = await open_ticket(node, anna_token)
    anna = await Client.connect(node.ws_url, anna_token)
    refusals: list[dict[str, Any]] = []
    acked: dict[str, int] = {}
    async with kept_alive(anna):
        await anna.join(ticket)

        switched = asyncio.Event()

        async def keep_sending() -> None:
            """Before, during and after the switch: until 20 more are acked once the new primary is named."""
            after = 0
            while after < 20:
                after += switched.is_set()
                acked[f"c{len(acked)}"] = await send_until_acked(anna, ticket, f"c{len(acked)}", refusals)
                await asyncio.sleep(0.01)

        sending = asyncio.create_task(keep_sending())
        while len(acked) < 15:
            await asyncio.sleep(0.05)
        old = sentinels.primary()
        if how == "sentinel failover":
            await asyncio.to_thread(sentinels.failover)
        else:
            old.kill()
            await asyncio.to_thread(sentinels.until_switched, old)
        switched.set()
        await asyncio.wait_for(sending, 60)
        assert sentinels.primary() is not old
        await anna.expect("message", ticket=ticket, seq=max(acked.values()), timeout=10)  # live fan-out followed
    sent = len(acked)
    assert sorted(acked.values()) == list(range(2, sent + 2))  # every send acked once, seqs gapless
    stored = await wait_for_history(sentinel_cluster.database_url, ticket, sent + 1)  # the worker followed too
    assert [m.seq for m in stored] == list(range(1, sent + 2))
    assert {m.client_id: m.seq for m in stored[1:]} == acked
    live = [f["seq"] for f in anna.of_type("message", ticket=ticket)]
    assert len(live) == len(set(live))  # nothing shown twice
    assert all(r["code"] == "unavailable" for r in refusals)
    await anna.close()


async def test_with_min_replicas_a_commit_no_replica_has_is_not_acked(
    sentinel_cluster: Cluster, sentinels: SentinelDeployment
) -> None:
    sentinel_cluster.env["HELPLINE_REDIS_MIN_REPLICAS"] = "1"
    node = sentinel_cluster.node()
    sentinel_cluster.worker()
    anna_token = person("anna")
    ticket = await open_ticket(node, anna_token)
    anna = await Client.connect(node.ws_url, anna_token)
    async with kept_alive(anna):
        await anna.join(ticket)
        assert (await anna.say(ticket, "replicated", client_id="first"))["seq"] == 2

        replicas = sentinels.replicas()
        for replica in replicas:
            replica.kill()
        await anna.send({"type": "send", "ticket": ticket, "client_id": "lonely", "body": "no replica has me"})
        refused = await first_answer(anna, "lonely")
        assert refused["type"] == "error" and refused["code"] == "unavailable"
        assert not anna.of_type("message", ticket=ticket, seq=3)  # not shown before a replica has it either

        for replica in replicas:
            sentinels.rejoin(replica)
        await asyncio.to_thread(sentinels.until_replicating, 2)
        await asyncio.sleep(0.5)
        # Not published when the replicas came back either: the gateway dropped the connection on which its
        # publication waited behind the WAIT, so Redis never ran it. Only the retry shows it.
        assert not anna.of_type("message", ticket=ticket, seq=3)
        refusals: list[dict[str, Any]] = []
        assert await send_until_acked(anna, ticket, "lonely", refusals) == 3  # the retry: acked once, same seq
        await anna.expect("message", ticket=ticket, seq=3)
    stored = await wait_for_history(sentinel_cluster.database_url, ticket, 3)
    assert [(m.seq, m.client_id) for m in stored[1:]] == [(2, "first"), (3, "lonely")]
    assert len(anna.of_type("ack", client_id="lonely")) == 1
    await anna.close()


# publish_committed.lua's keys (client ids, recent history, published mark) and ARGV (key, channel, ttl ms).
PUBLISH_ARGS = (3, "hl:{t}:cid", "hl:{t}:recent", "hl:{t}:pub", "author\nclient", "hl:{t}:channel", 1000)


async def test_a_replica_refuses_a_replicated_commits_publication(sentinels: SentinelDeployment) -> None:
    """A primary demoted by a failover keeps the gateway's connection, and a WAIT there fails at once; what waits
    behind it must not publish what that node is about to lose. publish_committed.lua is declared a write, so a
    replica refuses it; the same Lua without its declaration would run there."""
    replica = redis.asyncio.Redis.from_url(sentinels.replicas()[0].url)
    source = Scripts(cluster=False).publish_committed.source
    assert source.startswith("#!lua\n")
    try:
        with pytest.raises(redis.exceptions.ReadOnlyError):
            await replica.eval(source, *PUBLISH_ARGS)
        undeclared = source.removeprefix("#!lua\n")
        assert await replica.eval(undeclared, *PUBLISH_ARGS) == 0
    finally:
        await replica.aclose()
