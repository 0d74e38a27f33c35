"""The persistence worker's batch handling without any service: stream entries decoded straight into rows, and the
pipeline that writes one batch at a time and acknowledges each only after its own commit."""

from __future__ import annotations

import asyncio

import msgspec

from persistence.message_rows import row_of_message
from persistence.batch_pipeline import BatchPipeline
from persistence.worker import decode_entries
from realtime.bus.redis import layout as layout
from support.core.bus import Draft
from support.core.model import User


def draft(n: int, internal: bool = False) -> Draft:
    return Draft("t1", f"c{n}", User("agent-1", "Alice", "agent"), f"body {n}", internal, "2026-01-02T03:04:05.678Z")


def test_entries_decode_into_the_rows_their_messages_make() -> None:
    flat = (b"1-0", [b"t", b"t1", b"s", b"7", b"d", layout.encode_draft(draft(7))])  # as the server sends it
    named = (b"1-1", {b"t": b"t1", b"s": b"8", b"d": layout.encode_draft(draft(8, internal=True))})  # redis-py
    reordered = (b"1-2", [b"d", layout.encode_draft(draft(9)), b"s", b"9", b"t", b"t1"])
    ids, rows = decode_entries([flat, named, reordered])
    assert ids == [b"1-0", b"1-1", b"1-2"]
    assert rows == [
        row_of_message(draft(7).committed(7)),
        row_of_message(draft(8, True).committed(8)),
        row_of_message(draft(9).committed(9)),
    ]


def test_an_unreadable_entry_is_skipped_but_still_acknowledged() -> None:
    broken = (b"2-0", [b"t", b"t1", b"s", b"3", b"d", b"not msgpack"])
    missing = (b"2-1", [b"t", b"t1"])
    other_time = (
        b"2-2",
        [
            b"t",
            b"t1",
            b"s",
            b"4",
            b"d",
            msgspec.msgpack.encode(
                {
                    **msgspec.structs.asdict(draft(4)),
                    "author": {"id": "a", "name": "A", "role": "agent"},
                    "created_at": "2026-01-02T03:04:05+00:00",
                }
            ),
        ],
    )
    ids, rows = decode_entries([broken, missing, other_time])
    assert ids == [b"2-0", b"2-1", b"2-2"]
    assert [(row[1], row[8].isoformat()) for row in rows] == [(4, "2026-01-02T03:04:05+00:00")]


async def test_batches_are_written_one_at_a_time_and_acknowledged_after_their_own_commit() -> None:
    log: list[str] = []
    gates = {n: asyncio.Event() for n in (1, 2, 3)}

    async def write(rows: list) -> bool:  # type: ignore[type-arg]
        n = rows[0]
        log.append(f"write {n}")
        await gates[n].wait()
        log.append(f"commit {n}")
        return n != 3  # batch 3: stopping while the database is down, never written

    async def ack(ids: list[bytes], count: int) -> None:
        log.append(f"ack {ids[0].decode()}")

    pipeline = BatchPipeline(write, ack)
    await pipeline.put([b"1"], [1])
    second = asyncio.create_task(pipeline.put([b"2"], [2]))
    await asyncio.sleep(0.01)
    assert log == ["write 1"]  # batch 2 waits for batch 1's commit: a ticket's rows commit in seq order
    gates[1].set()
    await second
    await asyncio.sleep(0.01)
    assert log[:2] == ["write 1", "commit 1"]
    assert sorted(log[2:]) == ["ack 1", "write 2"]  # batch 1 is acknowledged while batch 2 is being written
    gates[2].set()
    gates[3].set()
    await pipeline.put([b"3"], [3])
    await pipeline.flush()
    assert log[4] == "commit 2"
    assert sorted(log[5:]) == ["ack 2", "commit 3", "write 3"]  # and no ack for what was not written


async def test_a_batch_is_acknowledged_as_soon_as_it_is_committed() -> None:
    acked: list[bytes] = []

    async def write(rows: list) -> bool:  # type: ignore[type-arg]
        return True

    async def ack(ids: list[bytes], count: int) -> None:
        acked.extend(ids)

    pipeline = BatchPipeline(write, ack)
    await pipeline.put([b"1-0", b"1-1"], [1, 2])
    await asyncio.sleep(0.01)
    assert acked == [b"1-0", b"1-1"]  # the last batch does not wait for another one to be read (or a flush)
