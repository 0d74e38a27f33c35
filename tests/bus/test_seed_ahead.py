"""A ticket is seeded when a node subscribes to it, so its first commit reads nothing from the database (issue 18).

Right after a join burst every ticket's first message used to wait on database reads (the bus's counter seed); the
store here counts the reads the bus makes, on a real migrated SQLite database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import AsyncIterator

import pytest
import redis.asyncio as aioredis

from persistence.store import TicketStore
from support.core.model import Message
from realtime.bus.redis.layout import Keys
from tests.bus.conftest import BusFactory, RedisNode, draft, new_ticket
from tests.services import REDIS_URL, migrate, sqlite_url


class CountingStore(TicketStore):
    """The real store, counting the reads a bus makes to seed a ticket or to answer a repeated client id."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.counted: Counter[str] = Counter()

    async def latest_messages(self, ticket_id: str, count: int, include_internal: bool) -> list[Message]:
        self.counted["latest_messages"] += 1
        return await super().latest_messages(ticket_id, count, include_internal)

    async def max_seq(self, ticket_id: str) -> int:
        self.counted["max_seq"] += 1
        return await super().max_seq(ticket_id)

    async def message_by_client_id(self, ticket_id: str, author_id: str, client_id: str) -> Message | None:
        self.counted["message_by_client_id"] += 1
        return await super().message_by_client_id(ticket_id, author_id, client_id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate, url)
    store = CountingStore(url)
    yield store
    await store.close()


def seeds_running(bus: object) -> object:
    """The seeds a bus started ahead of a first commit (the Redis bus keeps them with its commits)."""
    return getattr(getattr(bus, "_commits", bus), "_seeding", ())


async def settled(bus: object, store: CountingStore) -> None:
    """Until the seed started by subscribe has read the database and finished (it runs in the background)."""
    for _ in range(250):
        if store.counted["latest_messages"] and not seeds_running(bus):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"subscribing did not seed the ticket; reads: {dict(store.counted)}")


async def test_the_first_commit_after_a_subscribe_reads_nothing_from_the_database(
    open_node: BusFactory, store: CountingStore
) -> None:
    ticket = new_ticket()
    await store.write_messages(
        [
            draft(ticket, "opening", body="is it down?").committed(1),
            draft(ticket, "note", role="agent", internal=True).committed(2),
        ]
    )
    bus, _ = await open_node()
    await bus.subscribe(ticket)
    await settled(bus, store)
    store.counted.clear()

    first = await bus.commit(draft(ticket, "c1", body="still down"))

    assert (first.duplicate, first.message.seq) == (False, 3)  # taken up where the database left off
    assert dict(store.counted) == {}
    retry = await bus.commit(draft(ticket, "opening", body="retry"))  # a persisted id is still its duplicate
    assert (retry.duplicate, retry.message.seq, retry.message.body) == (True, 1, "is it down?")


async def test_subscribing_a_ticket_already_seeded_elsewhere_keeps_its_seqs(
    open_node: BusFactory, store: CountingStore
) -> None:
    """A second node joining a busy ticket must not move its counter back to what the database has so far."""
    ticket = new_ticket()
    await store.write_messages([draft(ticket, "opening").committed(1)])
    writer, _ = await open_node()
    committed = [await writer.commit(draft(ticket, f"c{i}")) for i in range(3)]
    joiner, _ = await open_node()
    await joiner.subscribe(ticket)
    for _ in range(250):
        if not seeds_running(joiner):
            break
        await asyncio.sleep(0.02)
    nxt = await writer.commit(draft(ticket, "after the join"))
    assert [r.message.seq for r in committed] + [nxt.message.seq] == [2, 3, 4, 5]


async def test_a_ticket_written_by_the_database_alone_is_joined_from_the_bus_once_seeded(
    open_node: BusFactory, store: CountingStore
) -> None:
    """A ticket's opening message is written with the ticket, by the database alone: before the seed put it into
    the bus's recent history, every join without `since` of a short ticket read the database (1.6 ms a join)."""
    ticket = new_ticket()
    await store.write_messages(
        [
            draft(ticket, "opening", body="is it down?").committed(1),
            draft(ticket, "note", role="agent", internal=True, body="checking").committed(2),
        ]
    )
    bus, _ = await open_node()
    await bus.subscribe(ticket)
    await settled(bus, store)
    store.counted.clear()

    recent, _ = await bus.catch_up(ticket, 0)

    assert recent is not None, "the join would have read the database"
    assert [(m.seq, m.body, m.internal, m.author.role) for m in recent] == [
        (1, "is it down?", False, "customer"),
        (2, "checking", True, "agent"),
    ]
    assert recent == await store.messages_after(ticket, 0, 10, include_internal=True)  # as the database has them
    await bus.commit(draft(ticket, "c3", body="still down"))
    recent, _ = await bus.catch_up(ticket, 0)
    assert recent is not None and [m.seq for m in recent] == [1, 2, 3]
    assert dict(store.counted) == {}


async def test_a_lost_stream_is_not_refilled_from_a_database_that_is_behind_redis(
    redis_nodes: RedisNode, store: CountingStore, redis_prefix: str
) -> None:
    """Commits the worker has not written yet exist only in Redis: refilling the stream from the database alone
    would give a catch-up a history without them, so the join reads the database (and the counter) instead."""
    ticket = new_ticket()
    await store.write_messages([draft(ticket, "opening").committed(1)])
    writer, _ = await redis_nodes()
    for i in range(2):
        await writer.commit(draft(ticket, f"c{i}"))  # seqs 2 and 3, in Redis only: no worker runs here
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await client.delete(Keys(redis_prefix).recent(ticket)) == 1  # the stream alone is lost
    finally:
        await client.aclose()
    joiner, _ = await redis_nodes()
    await joiner.subscribe(ticket)
    await settled(joiner, store)

    recent, _ = await joiner.catch_up(ticket, 0)

    assert recent is None  # not [1]: seqs 2 and 3 are not in the database yet


async def test_the_first_join_after_a_subscribe_waits_for_the_seed_instead_of_reading_the_database(
    open_node: BusFactory, store: CountingStore
) -> None:
    """A ticket's first join on a node subscribes, which starts the seed: its catch-up waits for what the seed
    puts into the recent history rather than read the database a second time."""
    ticket = new_ticket()
    await store.write_messages([draft(ticket, "opening", body="is it down?").committed(1)])
    bus, _ = await open_node()
    await bus.subscribe(ticket)

    recent, _ = await bus.catch_up(ticket, 0)  # at once: the seed is still under way

    assert recent is not None and [m.body for m in recent] == ["is it down?"]
    assert store.counted["latest_messages"] == 1  # the seed's read, and no other


async def test_a_ticket_whose_first_commit_comes_before_any_join_is_joined_from_the_bus(
    open_node: BusFactory, store: CountingStore
) -> None:
    """A reply by mail or through the HTTP API may be a ticket's first commit, before anybody joined it: its seed
    must fill the recent history too, or the history would start after the opening message and every later join
    without `since` would read the database."""
    ticket = new_ticket()
    await store.write_messages([draft(ticket, "opening", body="is it down?").committed(1)])
    bus, _ = await open_node()

    reply = await bus.commit(draft(ticket, "by-mail", body="any news?"))

    assert reply.message.seq == 2
    store.counted.clear()
    recent, _ = await bus.catch_up(ticket, 0)
    assert recent is not None, "the join would have read the database"
    assert [(m.seq, m.body) for m in recent] == [(1, "is it down?"), (2, "any news?")]
    assert dict(store.counted) == {}
