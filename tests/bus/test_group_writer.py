"""The embedded default's group writer (issue 18): commits that arrive while a group is being written go together in
the next one, in seq order, and none is acked before its own group's COMMIT; a retried client id is answered from
memory once its first commit is done. Real migrated SQLite store; the write is held open by a gate, not a timer.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import AsyncIterator, Iterable

import pytest

from persistence.store import TicketStore
from realtime.bus.memory import MemoryBus
from support.core.bus import CommitResult
from support.core.model import Message
from tests.bus.conftest import Sink, draft, new_ticket
from tests.services import migrate, sqlite_url


class GatedStore(TicketStore):
    """The real store, whose group writes wait for `opened` and record each group's seqs once it is committed."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.opened = asyncio.Event()
        self.opened.set()
        self.writing = asyncio.Event()
        self.groups: list[list[int]] = []
        self.client_id_reads = 0

    async def write_messages(self, messages: Iterable[Message]) -> None:
        group = list(messages)
        self.writing.set()
        await self.opened.wait()
        await super().write_messages(group)
        self.groups.append([m.seq for m in group])

    async def message_by_client_id(self, ticket_id: str, author_id: str, client_id: str) -> Message | None:
        self.client_id_reads += 1
        return await super().message_by_client_id(ticket_id, author_id, client_id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GatedStore]:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate, url)
    store = GatedStore(url)
    yield store
    await store.close()


@pytest.fixture
async def bus(store: GatedStore) -> AsyncIterator[MemoryBus]:
    bus = MemoryBus(store, group_window_s=0.002)  # with a window (off by default): it must keep order and acks
    await bus.start(Sink())
    yield bus
    store.opened.set()
    await bus.close()


async def test_commits_made_while_a_group_is_written_go_in_the_next_group_in_order_and_wait_for_its_commit(
    bus: MemoryBus, store: GatedStore
) -> None:
    ticket = new_ticket()
    store.opened.clear()
    first = asyncio.create_task(bus.commit(draft(ticket, "c1")))
    await store.writing.wait()  # the first group is being written, held open
    later = [asyncio.create_task(bus.commit(draft(ticket, f"c{i}"))) for i in range(2, 12)]
    await asyncio.sleep(0.05)

    assert not first.done() and not any(t.done() for t in later)  # nothing acked before its COMMIT
    assert await store.messages_after(ticket, 0, 100, include_internal=True) == []

    store.opened.set()
    results: list[CommitResult] = await asyncio.gather(first, *later)

    assert [r.message.seq for r in results] == list(range(1, 12))
    assert store.groups == [[1], list(range(2, 12))]  # the ten that waited: one transaction, in seq order
    stored = await store.messages_after(ticket, 0, 100, include_internal=True)
    assert [(m.seq, m.client_id) for m in stored] == [(seq, f"c{seq}") for seq in range(1, 12)]


async def test_a_retry_after_the_commit_is_answered_from_memory_with_the_first_message(
    bus: MemoryBus, store: GatedStore
) -> None:
    ticket = new_ticket()
    first = await bus.commit(draft(ticket, "once", body="the original"))
    retry = await bus.commit(draft(ticket, "once", body="sent again"))

    assert (retry.duplicate, retry.message) == (True, first.message)
    assert store.client_id_reads == 0
    assert [m.body for m in await store.messages_after(ticket, 0, 10, include_internal=True)] == ["the original"]


async def test_a_retry_while_the_first_is_being_written_gets_the_same_message_once_it_is_committed(
    bus: MemoryBus, store: GatedStore
) -> None:
    ticket = new_ticket()
    store.opened.clear()
    first = asyncio.create_task(bus.commit(draft(ticket, "once")))
    await store.writing.wait()
    retry = asyncio.create_task(bus.commit(draft(ticket, "once", body="again")))
    await asyncio.sleep(0.05)
    assert not retry.done()

    store.opened.set()
    one, two = await asyncio.gather(first, retry)

    assert (one.duplicate, two.duplicate, two.message) == (False, True, one.message)
    assert store.groups == [[1]]


async def test_what_the_bus_keeps_of_a_committed_message_is_not_walked_by_the_garbage_collector(
    bus: MemoryBus, store: GatedStore
) -> None:
    # A full collection walks every tracked object: at 2,000 messages/s the cache of the last 100,000 commits, kept
    # as futures, made those walks 100-170 ms stalls of the node (issue 18). Kept as messages, it is not walked.
    ticket = new_ticket()
    results = [await bus.commit(draft(ticket, f"c{i}")) for i in range(5)]

    assert not any(gc.is_tracked(r.message) for r in results)
    assert not any(gc.is_tracked(m) for m in await bus.recent(ticket, 0) or [])
    assert [gc.is_tracked(kept) for kept in bus._by_client_id.values()] == [False] * 5
