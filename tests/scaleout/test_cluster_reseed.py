"""Re-seeding after data loss on a real Redis Cluster, per shard: one primary loses everything it held (FLUSHALL, as
a restart with no persistence would leave it; its replica follows), and its tickets come back from the database
with the right seqs, whole histories and nothing shown twice, while the tickets of the other shards never notice."""

from __future__ import annotations

import asyncio

import redis

from persistence.store import TicketStore
from realtime.bus.redis.bus import RedisBus
from support.core import slot_groups
from support.core.bus import MessageEvent
from tests.bus.conftest import Sink, draft
from tests.scaleout.redis_cluster import ClusterDeployment
from tests.scaleout.conftest import ClusterNode
from tests.scaleout.test_redis_cluster import tickets_on, worker  # noqa: F401 - fixtures

BEFORE, AFTER = 8, 5  # messages each ticket has before the loss, and after it


def seqs_seen(sink: Sink, ticket: str) -> list[int]:
    return [e.message.seq for t, e in sink.events if t == ticket and isinstance(e, MessageEvent)]


async def written(store: TicketStore, ticket: str, count: int) -> list[tuple[int, str]]:
    """The ticket's messages in the database, once the worker has written `count` of them (or after 30 s)."""
    for _ in range(300):
        rows = await store.messages_after(ticket, 0, 10_000, include_internal=True)
        if len(rows) >= count:
            break
        await asyncio.sleep(0.1)
    return [(m.seq, m.client_id) for m in rows]


def flush_primary(deployment: ClusterDeployment, port: int) -> None:
    """The shard loses its data: the primary's keyspace is emptied, and replication empties its replica."""
    client = redis.Redis(port=port, socket_timeout=5)
    try:
        client.execute_command("FLUSHALL", "SYNC")
    finally:
        client.close()
    deployment.until_healthy()


async def history(bus: RedisBus, store: TicketStore, ticket: str) -> list[tuple[int, str]]:
    """What a client joining with since=0 is shown: Redis's recent history when it reaches back to seq 1, else the
    database (as recovery reads it)."""
    recent = await bus.recent(ticket, 0)
    if recent is None:
        return [(m.seq, m.client_id) for m in await store.messages_after(ticket, 0, 10_000, include_internal=True)]
    return [(m.seq, m.client_id) for m in recent]


async def test_a_shard_that_lost_its_data_reseeds_its_tickets_from_the_database(
    node: ClusterNode,
    worker: None,  # noqa: F811
    store: TicketStore,
    cluster_deployment: ClusterDeployment,
) -> None:
    writer, _ = await node()
    reader, sink = await node()
    victim, other = cluster_deployment.primary_ports()[:2]
    lost, kept = tickets_on(cluster_deployment, victim, 3), tickets_on(cluster_deployment, other, 3)
    for ticket in lost + kept:
        await reader.subscribe(ticket)
    for ticket in lost + kept:
        for n in range(BEFORE):
            await writer.commit(draft(ticket, f"c{n}", body=f"body {n}"))
    for ticket in lost + kept:  # everything acked so far is in the database: the loss takes only Redis's copy
        assert len(await written(store, ticket, BEFORE)) == BEFORE

    await asyncio.to_thread(flush_primary, cluster_deployment, victim)
    assert all(cluster_deployment.owner_of(slot_groups.tag_of(t)) == victim for t in lost)

    for ticket in lost + kept:
        retried = await writer.commit(draft(ticket, f"c{BEFORE - 1}", body=f"body {BEFORE - 1}"))
        assert retried.duplicate and retried.message.seq == BEFORE  # a client's retry still finds its message
        for n in range(BEFORE, BEFORE + AFTER):
            result = await writer.commit(draft(ticket, f"c{n}", body=f"body {n}"))
            assert not result.duplicate and result.message.seq == n + 1  # the next seq, not 1 again

    whole = list(range(1, BEFORE + AFTER + 1))
    expected = [(n + 1, f"c{n}") for n in range(BEFORE + AFTER)]
    for ticket in lost + kept:
        await sink.until(lambda: seqs_seen(sink, ticket)[-1:] == whole[-1:], timeout=20)
        assert seqs_seen(sink, ticket) == whole  # each seq shown once, in order, across the loss
        assert await written(store, ticket, len(whole)) == expected  # the worker wrote each once
        assert await history(reader, store, ticket) == expected
        assert await reader.recent(ticket, BEFORE) is not None  # what came after the loss is in Redis again
    for ticket in kept:  # the other shards were not touched: their recent history still reaches back to seq 1
        recent = await reader.recent(ticket, 0)
        assert recent is not None and [m.seq for m in recent] == whole
    for ticket in lost:  # the lost shard's first commit after the loss refilled its history from the database
        recent = await reader.recent(ticket, 0)
        assert recent is not None and [(m.seq, m.client_id) for m in recent] == expected
