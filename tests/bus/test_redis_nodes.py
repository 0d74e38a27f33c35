"""What only the Redis backend has to show: several nodes on one Redis, presence of a dead node, lost Redis data."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from persistence.store import TicketStore
from support.core.bus import MessageEvent, PresenceEvent
from support.core.errors import Unavailable
from realtime.bus.redis.layout import Keys
from support.core.model import User
from tests.bus.conftest import RedisNode as Node
from tests.bus.conftest import draft, drop_pubsub_connections, new_ticket
from tests.services import REDIS_URL, free_port


@pytest.fixture
def node(redis_nodes: Node) -> Node:
    return redis_nodes


async def keys_under(prefix: str) -> list[bytes]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        return [k async for k in client.scan_iter(match=f"{prefix}:*")]
    finally:
        await client.aclose()


async def delete(*keys: bytes | str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_a_message_committed_on_one_node_reaches_the_others(node: Node) -> None:
    ticket = new_ticket()
    (a, sink_a), (b, sink_b) = await node(), await node()
    await a.subscribe(ticket)
    await b.subscribe(ticket)
    await a.commit(draft(ticket, "from-a", body="hello from A"))
    await b.commit(draft(ticket, "from-b", body="hello from B"))
    for sink in (sink_a, sink_b):
        await sink.until(lambda s=sink: len(s.of(MessageEvent)) == 2)
        assert [e.message.body for e in sink.of(MessageEvent)] == ["hello from A", "hello from B"]  # type: ignore


async def test_members_of_a_dead_node_go_offline_once_for_everyone(node: Node) -> None:
    ticket = new_ticket()
    (a, _), (b, sink_b), (c, sink_c) = await node(), await node(), await node()
    for bus in (b, c):
        await bus.subscribe(ticket)
    anna, alice = User("anna", "Anna", "customer"), User("alice", "Alice", "agent")
    await a.presence_join(ticket, "conn-anna", anna)
    await b.presence_join(ticket, "conn-alice", alice)
    await a.close()  # the node dies: no leave, no more heartbeats
    for _ in range(8):  # node B keeps heartbeating for its own member
        await b.presence_refresh([(ticket, "conn-alice", alice)])
        await asyncio.sleep(0.2)
    assert [u.id for u in await c.presence_members(ticket)] == ["alice"]
    for sink in (sink_b, sink_c):
        offline = [e for e in sink.of(PresenceEvent) if not e.online]  # type: ignore[attr-defined]
        assert [e.user.id for e in offline] == ["anna"]  # published by exactly one sweeping node


async def test_lost_redis_data_never_reuses_a_seq_or_a_client_id(
    node: Node, store: TicketStore, redis_prefix: str
) -> None:
    ticket = new_ticket()
    bus, _ = await node()
    committed = [(await bus.commit(draft(ticket, f"c{i}", body=f"m{i}"))).message for i in range(3)]
    await store.write_messages(committed)  # what the worker had written before the loss
    await delete(*await keys_under(redis_prefix))  # Redis restarted without persistence
    after = await bus.commit(draft(ticket, "c3"))
    assert after.message.seq == 4 and not after.duplicate
    retried = await bus.commit(draft(ticket, "c1", body="sent again from an offline outbox"))
    assert retried.duplicate and retried.message.seq == 2 and retried.message.body == "m1"


async def test_lost_redis_data_still_answers_each_author_with_its_own_message(
    node: Node, store: TicketStore, redis_prefix: str
) -> None:
    """After the loss the first commit seeds the (author, client_id) keys from the database; the repeats that
    follow are answered from the seeded keys, each with its own author's message."""
    ticket = new_ticket()
    bus, _ = await node()
    note = (await bus.commit(draft(ticket, "same", body="known outage", role="agent", internal=True))).message
    question = (await bus.commit(draft(ticket, "same", body="is it down?"))).message
    await store.write_messages([note, question])
    await delete(*await keys_under(redis_prefix))  # Redis restarted without persistence
    seeding = await bus.commit(draft(ticket, "fresh", body="anyone?"))
    assert not seeding.duplicate and seeding.message.seq == 3
    customer_retry = await bus.commit(draft(ticket, "same", body="retry"))
    assert customer_retry.duplicate
    assert (customer_retry.message.seq, customer_retry.message.body, customer_retry.message.internal) == (
        2,
        "is it down?",
        False,
    )
    agent_retry = await bus.commit(draft(ticket, "same", body="retry", role="agent", internal=True))
    assert agent_retry.duplicate and (agent_retry.message.seq, agent_retry.message.body) == (1, "known outage")
    other_agent = await bus.commit(draft(ticket, "same", body="on it", role="admin"))
    assert not other_agent.duplicate and other_agent.message.seq == 4


async def test_a_lost_counter_continues_after_the_surviving_stream_tail(node: Node, redis_prefix: str) -> None:
    ticket = new_ticket()
    bus, _ = await node()
    for i in range(3):
        await bus.commit(draft(ticket, f"c{i}"))  # nothing persisted yet: only the streams know seqs 1-3
    keys = Keys(redis_prefix)
    await delete(keys.seq(ticket), keys.client_ids(ticket))
    assert (await bus.commit(draft(ticket, "c3"))).message.seq == 4


async def test_a_flushed_script_cache_is_reloaded(node: Node) -> None:
    ticket = new_ticket()
    bus, _ = await node()
    await bus.commit(draft(ticket, "before"))
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.script_flush()
    await client.aclose()
    assert (await bus.commit(draft(ticket, "after"))).message.seq == 2

    anna = User("anna", "Anna", "customer")
    await bus.presence_join(ticket, "conn-anna", anna)  # expires 0.6 s from now unless renewed
    await asyncio.sleep(0.4)
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.script_flush()
    await client.aclose()
    await bus.presence_refresh([(ticket, "conn-anna", anna)])  # the pipelined renewal reloads its script too
    await asyncio.sleep(0.4)  # past the first expiry: only the renewal keeps her online
    assert [u.id for u in await bus.presence_members(ticket)] == ["anna"]


async def test_unreachable_redis_means_unavailable_never_an_ack(node: Node) -> None:
    bus, _ = await node(url=f"redis://127.0.0.1:{free_port()}/0")
    assert await bus.ready() is False
    with pytest.raises(Unavailable):
        await bus.commit(draft(new_ticket(), "c1"))
    with pytest.raises(Unavailable):
        await bus.subscribe(new_ticket())
    with pytest.raises(Unavailable):
        await bus.recent(new_ticket(), 0)


async def test_a_node_that_lost_its_pubsub_connection_gets_what_it_missed_once(node: Node, redis_prefix: str) -> None:
    ticket = new_ticket()
    (a, sink_a), (b, _) = await node(), await node()
    await a.subscribe(ticket)
    await b.commit(draft(ticket, "c0"))
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 1)
    assert await drop_pubsub_connections(redis_prefix) == 2  # both nodes' pub/sub connections drop
    for i in range(1, 4):
        await b.commit(draft(ticket, f"c{i}"))  # published while node A was not listening
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 4)
    await b.commit(draft(ticket, "c4"))
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 5)
    await asyncio.sleep(0.2)
    assert [e.message.seq for e in sink_a.of(MessageEvent)] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]


async def test_presence_changes_missed_while_not_listening_are_caught_up(node: Node, redis_prefix: str) -> None:
    ticket = new_ticket()
    (a, sink_a), (b, _) = await node(ttl=30), await node(ttl=30)
    await a.subscribe(ticket)
    anna = User("anna", "Anna", "customer")
    await b.presence_join(ticket, "conn-anna", anna)
    await sink_a.until(lambda: len(sink_a.of(PresenceEvent)) == 1)
    await drop_pubsub_connections(redis_prefix)
    await b.presence_leave(ticket, "conn-anna", anna)  # published while node A was not listening
    await sink_a.until(lambda: len(sink_a.of(PresenceEvent)) == 2)
    await asyncio.sleep(0.2)
    assert [(e.user.id, e.online) for e in sink_a.of(PresenceEvent)] == [("anna", True), ("anna", False)]  # type: ignore[attr-defined]


async def commands_naming(fragment: str, action: Callable[[], Awaitable[object]]) -> list[str]:
    """The commands clients sent Redis during `action` that name `fragment` (seen with MONITOR, so every client's;
    not the commands scripts ran)."""
    client = aioredis.Redis.from_url(REDIS_URL)
    marker = f"{fragment}:monitored"
    seen: list[str] = []
    try:
        async with client.monitor() as monitor:

            async def watch() -> None:
                async for event in monitor.listen():
                    if marker in event["command"]:
                        return
                    if fragment in event["command"] and event.get("client_type") != "lua":
                        seen.append(event["command"])

            watching = asyncio.create_task(watch())
            await action()
            await aioredis.Redis.from_url(REDIS_URL).echo(marker)  # the last command MONITOR shows of this action
            await asyncio.wait_for(watching, 10)
    finally:
        await client.aclose()
    return seen


async def test_a_join_records_and_reads_presence_in_one_command(node: Node) -> None:
    bus, _ = await node()
    anna = User("anna", "Anna", "customer")
    await bus.presence_join(new_ticket(), "conn-warm", anna)  # the script is loaded (NOSCRIPT → EVAL) before
    ticket = new_ticket()
    seen = await commands_naming(ticket, lambda: bus.presence_join(ticket, "conn-anna", anna))
    assert len(seen) == 1, seen
    assert [u.id for u in await bus.presence_members(ticket)] == ["anna"]
