"""What every gateway node does on a Redis Cluster whatever the traffic, on the bus's own pipelined connections: the
slot map read again (kept as it is when unchanged, put right after a MOVED), the presence sweep of the 128 slot
groups' indexes, and the persistence lag of their 128 streams."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from persistence.store import TicketStore
from realtime.bus.redis.bus import RedisBus
from realtime.bus.redis.cluster import SlotMap
from realtime.bus.redis.layout import Keys
from realtime.bus.redis.wire import Endpoint
from support.core import slot_groups
from support.core.bus import PresenceEvent
from support.core.model import User
from support.core.redis_url import cluster_client, parse_redis_url
from support.core.stream import PERSIST_GROUP, persist_lag_of
from tests.bus.conftest import Sink, draft, until_ready
from tests.scaleout.conftest import ClusterNode
from tests.scaleout.redis_cluster import ClusterDeployment

pytestmark = pytest.mark.redis


def one_ticket_per_primary(deployment: ClusterDeployment) -> list[str]:
    found: dict[int, str] = {}
    while len(found) < 3:
        ticket = secrets.token_hex(6)
        found.setdefault(deployment.owner_of(slot_groups.tag_of(ticket)), ticket)
    return list(found.values())


async def test_a_slot_map_read_again_unchanged_keeps_its_version_and_a_moved_slot_is_put_right(
    cluster_deployment: ClusterDeployment,
) -> None:
    seeds = parse_redis_url(cluster_deployment.url).cluster_nodes
    slots = SlotMap(Endpoint(), seeds, "hltest:slots")
    changes: list[int] = []
    slots.on_change = lambda: changes.append(slots.version)
    await slots.refresh()
    owners = [slots.owner(slot) for slot in range(slot_groups.SLOTS)]
    assert None not in owners and len(set(owners)) == 3
    await slots.refresh()
    assert (slots.version, len(changes)) == (1, 1)  # nothing changed: nobody is told to move subscriptions
    elsewhere = next(a for a in slots.primaries() if a != owners[0])
    slots.moved(0, elsewhere)  # a MOVED that a reshard would undo: the map no longer matches CLUSTER SLOTS
    await slots.refresh()
    assert [slots.owner(slot) for slot in range(slot_groups.SLOTS)] == owners
    assert len(changes) == 3


async def test_members_of_a_dead_node_go_offline_once_on_every_shard(
    node: ClusterNode, cluster_deployment: ClusterDeployment
) -> None:
    tickets = one_ticket_per_primary(cluster_deployment)
    (a, _), (b, sink_b), (c, sink_c) = (
        await node(presence_ttl_s=0.6),
        await node(presence_ttl_s=0.6),
        await node(presence_ttl_s=0.6),
    )
    for bus in (b, c):
        for ticket in tickets:
            await bus.subscribe(ticket)
    anna, alice = User("anna", "Anna", "customer"), User("alice", "Alice", "agent")
    for ticket in tickets:
        await a.presence_join(ticket, "conn-anna", anna)
        await b.presence_join(ticket, "conn-alice", alice)
    await a.close()  # the node dies: no leave, no more heartbeats
    for _ in range(8):  # node B keeps heartbeating for its own member, renewing on every shard at once
        await b.presence_refresh([(ticket, "conn-alice", alice) for ticket in tickets])
        await asyncio.sleep(0.2)
    for ticket in tickets:
        assert [u.id for u in await c.presence_members(ticket)] == ["alice"]
        for sink in (sink_b, sink_c):
            offline = [e for t, e in sink.events if t == ticket and isinstance(e, PresenceEvent) and not e.online]
            assert [e.user.id for e in offline] == ["anna"]  # swept by exactly one node, from its shard's index


async def test_the_lag_of_every_slot_groups_stream_is_read_on_the_bus_connections(
    node: ClusterNode, cluster_deployment: ClusterDeployment, prefix: str
) -> None:
    bus, _ = await node(presence_ttl_s=0.6)
    streams = Keys(prefix, cluster=True).persist_streams
    client = cluster_client(parse_redis_url(cluster_deployment.url))
    try:
        for stream in streams:  # a worker's groups, nothing read yet: every stream's groups are looked at
            await client.xgroup_create(stream, PERSIST_GROUP, id="0", mkstream=True)
        tickets = one_ticket_per_primary(cluster_deployment)
        for n, ticket in enumerate(tickets * 2):
            await bus.commit(draft(ticket, f"c{n}"))
        messages, seconds = await persist_lag_of(client, streams, bus._run_all)
        assert messages == 6 and seconds >= 0
        stream = Keys(prefix, cluster=True).persist_of(tickets[0])
        await client.xreadgroup(PERSIST_GROUP, "w1", {stream: ">"}, count=1)  # one read, not acked: pending
        assert (await persist_lag_of(client, streams, bus._run_all))[0] == 6
        assert (await persist_lag_of(client, streams))[0] == 6  # the worker's way: a redis-py pipeline
        await client.delete(*streams)  # no stream at all: an error reply per stream, no lag
        assert (await persist_lag_of(client, streams, bus._run_all))[0] == 0
    finally:
        await client.aclose()


async def test_replicated_commits_on_every_shard_are_acked_gapless_and_delivered_once(
    cluster_deployment: ClusterDeployment, store: TicketStore, prefix: str
) -> None:
    bus, sink = RedisBus(cluster_deployment.url, store, prefix=prefix, min_replicas=1), Sink()
    await bus.start(sink)
    try:
        await until_ready(bus)
        tickets = one_ticket_per_primary(cluster_deployment)
        for ticket in tickets:
            await bus.subscribe(ticket)
        results = await asyncio.gather(*(bus.commit(draft(t, f"{t}-{n}")) for n in range(5) for t in tickets))
        for ticket in tickets:  # committed concurrently: one WAIT per write covers them, each acked once replicated
            assert sorted(r.message.seq for r in results if r.message.ticket == ticket) == [1, 2, 3, 4, 5]
            await sink.until(lambda t=ticket: len([x for x, e in sink.events if x == t]) == 5)
            assert [e.message.seq for x, e in sink.events if x == ticket] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]
    finally:
        await bus.close()
