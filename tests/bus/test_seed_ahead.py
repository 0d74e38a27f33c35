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

from persistence.store import TicketStore
from support.core.model import Message
from tests.bus.conftest import BusFactory, draft, new_ticket
from tests.services import migrate, sqlite_url


class CountingStore(TicketStore):
    """The real store, counting the reads a bus makes to seed a ticket or to answer a repeated client id."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.reads: Counter[str] = Counter()

    async def latest_messages(self, ticket_id: str, count: int, include_internal: bool) -> list[Message]:
        self.reads["latest_messages"] += 1
        return await super().latest_messages(ticket_id, count, include_internal)

    async def max_seq(self, ticket_id: str) -> int:
        self.reads["max_seq"] += 1
        return await super().max_seq(ticket_id)

    async def message_by_client_id(self, ticket_id: str, author_id: str, client_id: str) -> Message | None:
        self.reads["message_by_client_id"] += 1
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
        if store.reads["latest_messages"] and not seeds_running(bus):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"subscribing did not seed the ticket; reads: {dict(store.reads)}")


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
    store.reads.clear()

    first = await bus.commit(draft(ticket, "c1", body="still down"))

    assert (first.duplicate, first.message.seq) == (False, 3)  # taken up where the database left off
    assert dict(store.reads) == {}
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
