"""With HELPLINE_REDIS_MIN_REPLICAS, each gateway publishes its own commits once their WAIT returns, so two gateways'
publications of one ticket can cross: a later seq reaches a node before an earlier one. The node still hands its
hub every message once and in seq order, from the very first one it hears after subscribing (real Sentinel
deployment: one primary, two replicas)."""

from __future__ import annotations

import asyncio
import secrets
from typing import AsyncIterator

import pytest
import redis.asyncio as aioredis

from persistence.store import TicketStore
from realtime.bus.redis.bus import RedisBus
from support.core.bus import MessageEvent
from tests.bus.conftest import Sink, draft, new_ticket, until_ready
from tests.scaleout.sentinels import SentinelDeployment


@pytest.fixture
async def nodes(sentinel_deployment: SentinelDeployment, store: TicketStore) -> AsyncIterator[list[RedisBus]]:
    prefix = f"hltest-{secrets.token_hex(6)}"
    opened: list[RedisBus] = []
    for _ in range(2):
        bus = RedisBus(sentinel_deployment.url, store, prefix=prefix, presence_ttl_s=0.6, min_replicas=1)
        await bus.start(Sink())
        await until_ready(bus)
        opened.append(bus)
    yield opened
    for bus in opened:
        await bus.close()


async def publish_as_committed(deployment: SentinelDeployment, bus: RedisBus, ticket: str, seqs: list[int]) -> None:
    """What `publish_committed.lua` sends for each seq, from the recent history, in the order given: the
    publications of commits made on other gateways, crossing."""
    client = aioredis.Redis(host="127.0.0.1", port=deployment.primary().port)
    try:
        for seq in seqs:
            [(_, fields)] = await client.xrange(bus._keys.recent(ticket), f"{seq}-0", f"{seq}-0")
            await client.publish(bus._keys.channel(ticket), b"m%d " % seq + fields[b"d"])
    finally:
        await client.aclose()


def seqs_heard(sink: Sink, ticket: str) -> list[int]:
    return [e.message.seq for t, e in sink.events if t == ticket and isinstance(e, MessageEvent)]


async def test_the_first_message_a_node_hears_is_handed_on_after_one_that_crossed_it(
    nodes: list[RedisBus], sentinel_deployment: SentinelDeployment
) -> None:
    writer, reader = nodes
    sink = Sink()
    reader._sink = sink  # this node's hub
    ticket = new_ticket()
    for n in range(4):
        await writer.commit(draft(ticket, f"c{n}"))  # seqs 1-4, committed and replicated
    await reader.subscribe(ticket)  # its clients' snapshots are read from here on
    await publish_as_committed(sentinel_deployment, reader, ticket, [4, 3])  # 3's gateway published after 4's
    await sink.until(lambda: {3, 4} <= set(seqs_heard(sink, ticket)))
    heard = seqs_heard(sink, ticket)
    assert heard == sorted(set(heard))  # once each, in order: 3 before 4
    await publish_as_committed(sentinel_deployment, reader, ticket, [3])  # a late repeat changes nothing
    nxt = await writer.commit(draft(ticket, "c4"))
    await sink.until(lambda: nxt.message.seq in seqs_heard(sink, ticket))
    heard = seqs_heard(sink, ticket)
    assert heard == sorted(set(heard)) and heard[-2:] == [4, 5]


async def test_a_gap_fill_hands_on_nothing_past_the_published_seq_that_opened_it(
    nodes: list[RedisBus], sentinel_deployment: SentinelDeployment
) -> None:
    """A commit still waiting for its replicas is already in the recent history; a gap fill that read the history
    to its end would show it, and a primary lost then would take it back."""
    writer, reader = nodes
    sink = Sink()
    reader._sink = sink
    ticket = new_ticket()
    for n in range(3):
        await writer.commit(draft(ticket, f"c{n}"))  # seqs 1-3, replicated, not yet published to this node
    await reader.subscribe(ticket)
    await publish_as_committed(sentinel_deployment, reader, ticket, [1])
    await sink.until(lambda: seqs_heard(sink, ticket) == [1])
    client = aioredis.Redis(host="127.0.0.1", port=sentinel_deployment.primary().port)
    try:  # seq 4 as the commit script leaves it while its WAIT is pending: in the history, not published
        [(_, fields)] = await client.xrange(reader._keys.recent(ticket), "3-0", "3-0")
        await client.xadd(reader._keys.recent(ticket), {b"d": fields[b"d"]}, id="4-0")
    finally:
        await client.aclose()
    await publish_as_committed(sentinel_deployment, reader, ticket, [3])  # 2's publication is still on its way
    await sink.until(lambda: 3 in seqs_heard(sink, ticket))
    await asyncio.sleep(0.3)
    assert seqs_heard(sink, ticket) == [1, 2, 3]  # 2 read from the history; 4 not shown before its publication
    await publish_as_committed(sentinel_deployment, reader, ticket, [4])
    await sink.until(lambda: 4 in seqs_heard(sink, ticket))
    assert seqs_heard(sink, ticket) == [1, 2, 3, 4]


async def test_a_join_reads_the_history_only_up_to_what_was_published(
    nodes: list[RedisBus], sentinel_deployment: SentinelDeployment
) -> None:
    """A commit waits for its replicas in the recent history; a join then must not show it (a primary lost in that
    window takes it back), and shows it once it is published."""
    writer, reader = nodes
    ticket = new_ticket()
    for n in range(3):
        await writer.commit(draft(ticket, f"c{n}"))  # seqs 1-3, published: the mark is at 3
    client = aioredis.Redis(host="127.0.0.1", port=sentinel_deployment.primary().port)
    try:  # seq 4 as commit.lua leaves it while its WAIT is pending: counted and in the history, not published
        [(_, fields)] = await client.xrange(reader._keys.recent(ticket), "3-0", "3-0")
        await client.xadd(reader._keys.recent(ticket), {b"d": fields[b"d"]}, id="4-0")
        await client.incr(reader._keys.seq(ticket))
    finally:
        await client.aclose()
    messages, _ = await reader.catch_up(ticket, 0)
    assert messages is not None and [m.seq for m in messages] == [1, 2, 3]
    messages, _ = await reader.catch_up(ticket, 3)
    assert messages == []  # nothing readable yet, and no database read for it either
    nxt = await writer.commit(draft(ticket, "c4"))  # published: it and 4 before it are replicated
    messages, _ = await reader.catch_up(ticket, 3)
    assert messages is not None and [m.seq for m in messages] == [4, nxt.message.seq]


async def test_a_ticket_seeded_from_the_database_is_joined_from_redis(
    nodes: list[RedisBus], store: TicketStore
) -> None:
    """The database's messages are replicated and written: the seed marks them readable, so joins of a ticket
    nobody wrote to since need no database read."""
    _, reader = nodes
    ticket = new_ticket()
    await store.write_messages([draft(ticket, f"old{n}").committed(n + 1) for n in range(3)])
    await reader.subscribe(ticket)  # seeds the counter, the client ids and the recent history
    messages, _ = await reader.catch_up(ticket, 0)
    assert messages is not None and [m.seq for m in messages] == [1, 2, 3]


async def test_a_history_read_stops_at_the_published_mark_too(
    nodes: list[RedisBus], sentinel_deployment: SentinelDeployment
) -> None:
    """The database path of a join and a node's refill after a reconnect read the recent history's tail
    (`recent`): the same mark holds there."""
    writer, reader = nodes
    ticket = new_ticket()
    for n in range(2):
        await writer.commit(draft(ticket, f"c{n}"))
    client = aioredis.Redis(host="127.0.0.1", port=sentinel_deployment.primary().port)
    try:
        [(_, fields)] = await client.xrange(reader._keys.recent(ticket), "2-0", "2-0")
        await client.xadd(reader._keys.recent(ticket), {b"d": fields[b"d"]}, id="3-0")
        await client.incr(reader._keys.seq(ticket))
    finally:
        await client.aclose()
    messages = await reader.recent(ticket, 0)
    assert messages is not None and [m.seq for m in messages] == [1, 2]
