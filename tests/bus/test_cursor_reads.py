"""A join's read cursors: concurrent joins share one query, and each still reads its own ticket's cursors as stored."""

from __future__ import annotations

import asyncio

from persistence.cursor_reads import CursorReads
from persistence.store import TicketStore
from support.core.clock import utcnow


async def test_concurrent_joins_each_get_their_own_tickets_cursors(store: TicketStore) -> None:
    now = utcnow()
    await store.set_read("t-1", "alice", 4, now)
    await store.set_read("t-1", "bob", 2, now)
    await store.set_read("t-2", "carol", 9, now)
    reads = await asyncio.gather(*(store.read_cursors(t) for t in ("t-1", "t-2", "t-3", "t-1")))
    assert reads == [{"alice": 4, "bob": 2}, {"carol": 9}, {}, {"alice": 4, "bob": 2}]
    reads[0]["alice"] = 0  # each join has its own copy: one join's frame cannot change another's
    assert reads[3] == {"alice": 4, "bob": 2}


async def test_a_cursor_moved_before_the_join_asked_is_seen(store: TicketStore) -> None:
    now = utcnow()
    await store.set_read("t-1", "alice", 1, now)
    assert await store.read_cursors("t-1") == {"alice": 1}
    await store.set_read("t-1", "alice", 7, now)
    assert await store.read_cursors("t-1") == {"alice": 7}


async def test_the_joins_of_one_tick_share_a_query_and_later_ones_wait_for_a_free_slot() -> None:
    batches: list[list[str]] = []
    release = asyncio.Event()

    async def fetch(tickets: list[str]) -> list[tuple[str, str, int]]:
        batches.append(sorted(tickets))
        await release.wait()
        return [(t, "u", int(t[1:])) for t in tickets]

    reads = CursorReads(fetch)
    first = [asyncio.create_task(reads.read(f"t{i}")) for i in range(50)]
    await asyncio.sleep(0.01)
    assert len(batches) == 1 and len(batches[0]) == 50
    second = [asyncio.create_task(reads.read(f"t{i}")) for i in range(50, 60)]
    await asyncio.sleep(0.01)
    third = [asyncio.create_task(reads.read(f"t{i}")) for i in range(60, 70)]
    await asyncio.sleep(0.01)
    # Two queries in flight: the third tick's joins wait, then go together once a slot is free.
    assert [len(b) for b in batches] == [50, 10]
    release.set()
    results = await asyncio.gather(*first, *second, *third)
    assert [len(b) for b in batches] == [50, 10, 10]
    assert results == [{"u": i} for i in range(70)]


async def test_a_failed_query_fails_its_joins_and_the_next_join_reads_again() -> None:
    calls = 0

    async def fetch(tickets: list[str]) -> list[tuple[str, str, int]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database unreachable")
        return [(t, "u", 1) for t in tickets]

    reads = CursorReads(fetch)
    failed = await asyncio.gather(reads.read("a"), reads.read("b"), return_exceptions=True)
    assert [type(f) for f in failed] == [OSError, OSError]
    assert await reads.read("a") == {"u": 1}
