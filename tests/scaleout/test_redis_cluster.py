"""The Redis bus and the persistence worker on a real Redis Cluster (3 primaries + 3 replicas): every slot group's
stream is drained, and a live reshard or a primary's kill -9 (its replica promoted) under steady commits loses
nothing acked, shows nothing twice and leaves no gap. HELPLINE_CHAOS=full runs the long forms."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import AsyncIterator

import pytest

from persistence.store import TicketStore
from persistence.worker import PersistenceWorker
from realtime.bus.redis.bus import RedisBus
from realtime.bus.redis.layout import Keys
from support.core import slot_groups
from support.core.bus import CommitResult, Draft, MessageEvent, TicketEvent
from support.core.errors import Unavailable
from support.core.model import Customer, Message, TicketView
from support.core.redis_url import cluster_client, parse_redis_url
from support.core.settings import Settings
from support.core.stream import PERSIST_GROUP
from tests.bus.conftest import Sink, draft
from tests.scaleout.conftest import ClusterNode
from tests.scaleout.redis_cluster import ClusterDeployment

pytestmark = pytest.mark.redis
FULL = os.environ.get("HELPLINE_CHAOS") == "full"
NOW = "2025-01-01T00:00:00Z"


@pytest.fixture
async def worker(cluster_deployment: ClusterDeployment, store: TicketStore, prefix: str) -> AsyncIterator[None]:
    settings = Settings(database_url=store.url, redis_url=cluster_deployment.url, key_prefix=prefix)
    running = PersistenceWorker(settings)
    task = asyncio.create_task(running.run())
    yield
    running.stop()
    await asyncio.wait_for(task, 15)
    await running.close()


def tickets_on(deployment: ClusterDeployment, port: int, count: int, within: int = 0) -> list[str]:
    """Tickets whose slot group lives on this primary; with `within`, in its lowest `within` slots (the ones
    `redis-cli --cluster reshard` moves first)."""
    owned = deployment.slots_of(port)
    wanted = set(owned[:within] if within else owned)
    found: list[str] = []
    while len(found) < count:
        ticket = secrets.token_hex(6)
        if slot_groups.key_slot(slot_groups.tag_of(ticket)) in wanted:
            found.append(ticket)
    return found


async def commit_until_acked(bus: RedisBus, message: Draft, timeout: float = 30.0) -> CommitResult:
    """What a client does: retry with the same client_id until the commit is acked (idempotent)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await bus.commit(message)
        except Unavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def steady_load(bus: RedisBus, tickets: list[str], stop: asyncio.Event) -> dict[str, list[CommitResult]]:
    """One writer per ticket, one message after another, until told to stop: every result acked."""
    acked: dict[str, list[CommitResult]] = {t: [] for t in tickets}

    async def write(ticket: str) -> None:
        n = 0
        while not stop.is_set():
            acked[ticket].append(await commit_until_acked(bus, draft(ticket, f"m{n}", body=f"body {n}")))
            n += 1
            await asyncio.sleep(0.01)

    await asyncio.gather(*(write(t) for t in tickets))
    return acked


async def assert_nothing_lost(
    acked: dict[str, list[CommitResult]], sink: Sink, bus: RedisBus, store: TicketStore
) -> None:
    """Acked seqs gapless from 1 and each client_id once (a retry of a commit that did land is answered as its
    duplicate, with its seq); the subscriber saw each seq once, in order; the worker wrote them all."""
    for ticket, results in acked.items():
        assert [r.message.client_id for r in results] == [f"m{n}" for n in range(len(results))]
        assert [r.message.seq for r in results] == list(range(1, len(results) + 1))
        expected = [r.message.seq for r in results]
        await sink.until(
            lambda: (
                [e.message.seq for t, e in sink.events if t == ticket and isinstance(e, MessageEvent)][-1:]
                == expected[-1:]
            ),
            timeout=20,
        )
        seen = [e.message.seq for t, e in sink.events if t == ticket and isinstance(e, MessageEvent)]
        assert seen == expected
        recent = await bus.recent(ticket, 0)
        assert recent is not None and [m.client_id for m in recent] == [r.message.client_id for r in results]
    for ticket, results in acked.items():
        for _ in range(300):
            written = await store.messages_after(ticket, 0, 10_000, include_internal=True)
            if len(written) >= len(results):
                break
            await asyncio.sleep(0.1)
        assert [(m.seq, m.client_id) for m in written] == [(r.message.seq, r.message.client_id) for r in results]


async def test_the_worker_drains_every_slot_groups_stream(
    node: ClusterNode, worker: None, store: TicketStore, cluster_deployment: ClusterDeployment, prefix: str
) -> None:
    bus, _ = await node()
    getkeys = cluster_deployment.calls("command|getkeys")
    tickets = [secrets.token_hex(6) for _ in range(24)]  # over many slot groups, on every primary
    assert len({cluster_deployment.owner_of(slot_groups.tag_of(t)) for t in tickets}) == 3
    await asyncio.gather(*(bus.commit(draft(t, f"c{i}")) for t in tickets for i in range(10)))
    for ticket in tickets:
        for _ in range(200):
            written = await store.messages_after(ticket, 0, 100, include_internal=True)
            if len(written) == 10:
                break
            await asyncio.sleep(0.1)
        assert [m.seq for m in written] == list(range(1, 11))
    keys = Keys(prefix, cluster=True)
    assert len({keys.persist_of(t) for t in tickets}) > 3  # the commits went to many slot groups' streams
    # redis-py found every command's keys itself: no COMMAND GETKEYS round trip before the worker's stream reads
    assert cluster_deployment.calls("command|getkeys") == getkeys


async def test_what_a_dead_worker_left_pending_in_every_shard_is_claimed_and_written_once(
    node: ClusterNode, store: TicketStore, cluster_deployment: ClusterDeployment, prefix: str
) -> None:
    bus, _ = await node()
    tickets = [secrets.token_hex(6) for _ in range(12)]  # over many slot groups, on every primary
    assert len({cluster_deployment.owner_of(slot_groups.tag_of(t)) for t in tickets}) == 3
    await asyncio.gather(*(bus.commit(draft(t, f"c{i}")) for t in tickets for i in range(3)))
    streams = sorted({Keys(prefix, cluster=True).persist_of(t) for t in tickets})
    client = cluster_client(parse_redis_url(cluster_deployment.url))
    try:
        for stream in streams:  # a worker that read everything and died before writing any of it
            await client.xgroup_create(stream, PERSIST_GROUP, id="0")
            await client.xreadgroup(PERSIST_GROUP, "dead-worker", {stream: ">"})
    finally:
        await client.aclose()
    settings = Settings(
        database_url=store.url, redis_url=cluster_deployment.url, key_prefix=prefix, worker_claim_idle_s=0.2
    )
    running = PersistenceWorker(settings)
    task = asyncio.create_task(running.run())
    try:
        for ticket in tickets:
            assert [m.seq for m in await written_once(store, ticket, 3, task)] == [1, 2, 3]
    finally:
        running.stop()
        await asyncio.wait_for(task, 15)
        await running.close()


async def test_a_flush_of_queue_updates_is_one_publish_per_shard_and_every_node_hears_each_view(
    node: ClusterNode, cluster_deployment: ClusterDeployment
) -> None:
    sender, _ = await node()
    listener, sink = await node()
    tickets = [secrets.token_hex(6) for _ in range(60)]  # about 50 of the 128 slot groups, on every primary
    assert len({cluster_deployment.owner_of(slot_groups.tag_of(t)) for t in tickets}) == 3
    primaries = cluster_deployment.primary_ports()
    before = cluster_deployment.calls("spublish", primaries)
    await sender.publish_tickets([queue_view(t, i + 1) for i, t in enumerate(tickets)])
    await sink.until(lambda: len(sink.of(TicketEvent)) == len(tickets))
    heard = sorted((e.ticket.id, e.ticket.last_seq) for e in sink.of(TicketEvent))  # type: ignore[attr-defined]
    assert heard == sorted((t, i + 1) for i, t in enumerate(tickets))
    assert cluster_deployment.calls("spublish", primaries) - before == 3


def queue_view(ticket: str, last_seq: int) -> TicketView:
    return TicketView(
        ticket, "Chart", "open", "pro", 3, "bug", Customer("anna", "Anna"), None, NOW, NOW, last_seq, None
    )


async def test_a_worker_waiting_for_replicas_writes_only_what_each_shards_replica_has(
    node: ClusterNode, store: TicketStore, cluster_deployment: ClusterDeployment, prefix: str
) -> None:
    """With HELPLINE_REDIS_MIN_REPLICAS=1 the worker writes an entry only once the replica of the primary it was
    read from has it: with one primary's replica down, that shard's tickets wait, the others' are written; the
    replica back, the waiting entries are claimed and written, each once."""
    bus, _ = await node()  # commits acked on the primary alone, so that they land while the replica is down
    victim = cluster_deployment.primary_ports()[0]
    waiting = tickets_on(cluster_deployment, victim, 2)
    others = [
        t
        for t in (secrets.token_hex(6) for _ in range(40))
        if cluster_deployment.owner_of(slot_groups.tag_of(t)) != victim
    ][:6]
    replica = cluster_deployment.replica_of(victim)
    stopped = cluster_deployment.kill(replica)
    settings = Settings(
        database_url=store.url,
        redis_url=cluster_deployment.url,
        key_prefix=prefix,
        redis_min_replicas=1,
        redis_wait_timeout_ms=200,
        worker_claim_idle_s=0.5,
    )
    running = PersistenceWorker(settings)
    task = asyncio.create_task(running.run())
    try:
        await asyncio.gather(*(bus.commit(draft(t, f"c{i}")) for t in waiting + others for i in range(5)))
        for ticket in others:  # written: so the worker has read every stream, the victim's too, at least once
            assert [m.seq for m in await written_once(store, ticket, 5, task)] == list(range(1, 6))
        for ticket in waiting:
            assert await store.messages_after(ticket, 0, 100, include_internal=True) == []
        stopped.start()
        await asyncio.to_thread(cluster_deployment.until_healthy)
        for ticket in waiting:
            assert [m.seq for m in await written_once(store, ticket, 5, task)] == list(range(1, 6))
    finally:
        if stopped.process is None or stopped.process.poll() is not None:
            stopped.start()
            await asyncio.to_thread(cluster_deployment.until_healthy)
        running.stop()
        await asyncio.wait_for(task, 15)  # raises what the worker died of, if it did
        await running.close()


async def written_once(store: TicketStore, ticket: str, count: int, worker: "asyncio.Task[None]") -> list[Message]:
    for _ in range(300):
        rows = await store.messages_after(ticket, 0, 100, include_internal=True)
        if len(rows) >= count or worker.done():
            return rows
        await asyncio.sleep(0.1)
    return rows


async def test_a_live_reshard_of_active_tickets_loses_nothing_acked(
    node: ClusterNode, worker: None, store: TicketStore, cluster_deployment: ClusterDeployment
) -> None:
    writer, _ = await node()
    reader, sink = await node()
    source, target = cluster_deployment.primary_ports()[:2]
    moved = 2000 if FULL else 400
    tickets = tickets_on(cluster_deployment, source, 4, within=moved)
    for ticket in tickets:
        await reader.subscribe(ticket)
    stop = asyncio.Event()
    load = asyncio.create_task(steady_load(writer, tickets, stop))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(cluster_deployment.reshard, source, target, moved)
    assert all(cluster_deployment.owner_of(slot_groups.tag_of(t)) == target for t in tickets)
    await asyncio.sleep(1.5)  # commits keep coming at the new owner; the subscriber follows the slots there
    stop.set()
    acked = await load
    assert all(len(results) > 5 for results in acked.values())
    await assert_nothing_lost(acked, sink, reader, store)
    await asyncio.to_thread(cluster_deployment.reshard, target, source, moved)  # as it was, for the next test


async def test_a_primary_killed_under_load_loses_nothing_acked(
    node: ClusterNode, worker: None, store: TicketStore, cluster_deployment: ClusterDeployment
) -> None:
    writer, _ = await node(min_replicas=1)  # acked means on the replica that takes over
    reader, sink = await node()
    victim = cluster_deployment.primary_ports()[0]
    tickets = tickets_on(cluster_deployment, victim, 3)
    for ticket in tickets:
        await reader.subscribe(ticket)
    stop = asyncio.Event()
    load = asyncio.create_task(steady_load(writer, tickets, stop))
    rounds = 3 if FULL else 1
    for _ in range(rounds):
        await asyncio.sleep(0.7)
        killed = cluster_deployment.kill(victim)
        cluster_deployment.wait_until(
            lambda: all(cluster_deployment.owner_of(slot_groups.tag_of(t)) != victim for t in tickets),
            "no replica took over the killed primary's slots",
        )
        await asyncio.sleep(1.0)  # commits resume on the promoted replica
        killed.start()  # back as a replica of the one promoted
        await asyncio.to_thread(cluster_deployment.until_healthy)
        victim = cluster_deployment.owner_of(slot_groups.tag_of(tickets[0]))
    stop.set()
    acked = await load
    assert all(len(results) > 5 for results in acked.values())
    await assert_nothing_lost(acked, sink, reader, store)
