"""A join reads the ticket's read cursors from the bus's copy, in the same read as its recent history (issue 18).

The store stays the truth: the copy is missing until a join fills it from the store, a moved cursor moves it too and
never back, and an erasure drops it. On every backend.
"""

from __future__ import annotations

from support.core.clock import utcnow
from persistence.store import TicketStore
from tests.bus.conftest import BusFactory, draft, new_ticket


async def test_a_missing_copy_is_filled_from_the_store_and_given_to_later_joins(
    open_node: BusFactory, store: TicketStore
) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await store.set_read(ticket, "alice", 4, utcnow())
    await store.set_read(ticket, "bob", 2, utcnow())
    _, copied = await bus.catch_up(ticket, 0)
    assert copied is None  # never filled: the join reads the store
    await bus.keep_read_cursors(ticket, await store.read_cursors(ticket))
    _, copied = await bus.catch_up(ticket, 0)
    assert copied == {"alice": 4, "bob": 2}


async def test_a_ticket_nobody_read_is_known_empty_once_filled(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.keep_read_cursors(ticket, {})
    assert (await bus.catch_up(ticket, 0))[1] == {}


async def test_a_fill_read_before_a_cursor_moved_cannot_take_it_back(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.keep_read_cursors(ticket, {"alice": 4})
    await bus.note_read(ticket, "alice", 7)
    await bus.keep_read_cursors(ticket, {"alice": 4})  # a join that read the store before alice read on
    await bus.note_read(ticket, "alice", 3)  # an older tab's read arriving late
    await bus.note_read(ticket, "carol", 1)
    assert (await bus.catch_up(ticket, 0))[1] == {"alice": 7, "carol": 1}


async def test_a_cursor_moved_before_any_fill_leaves_the_copy_to_the_store(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.note_read(ticket, "alice", 7)
    assert (await bus.catch_up(ticket, 0))[1] is None  # bob's cursor is only in the store: still read there
    await bus.keep_read_cursors(ticket, {"alice": 5, "bob": 2})
    assert (await bus.catch_up(ticket, 0))[1] == {"alice": 7, "bob": 2}


async def test_each_join_gets_its_own_cursors(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.keep_read_cursors(ticket, {"alice": 4})
    first = (await bus.catch_up(ticket, 0))[1]
    assert first is not None
    first["alice"] = 0
    assert (await bus.catch_up(ticket, 0))[1] == {"alice": 4}


async def test_an_erasure_drops_the_copy_and_the_history(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.commit(draft(ticket, "c1"))
    await bus.keep_read_cursors(ticket, {"alice": 1})
    await bus.forget_recent(ticket)
    assert await bus.catch_up(ticket, 0) == (None, None)  # both from the store again


async def test_a_resume_gets_what_was_committed_since_and_nothing_twice(open_node: BusFactory) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    for i in range(4):
        await bus.commit(draft(ticket, f"c{i}", body=f"m{i}"))
    messages, _ = await bus.catch_up(ticket, 2)
    assert messages is not None and [(m.seq, m.body) for m in messages] == [(3, "m2"), (4, "m3")]
    assert await bus.catch_up(ticket, 4) == ([], None)


async def test_a_resume_with_nothing_new_needs_no_history_even_when_the_short_history_is_gone(
    open_node: BusFactory,
) -> None:
    bus, _ = await open_node()
    ticket = new_ticket()
    await bus.commit(draft(ticket, "c1"))
    await bus.commit(draft(ticket, "c2"))
    await bus.forget_recent(ticket)
    assert (await bus.catch_up(ticket, 2))[0] == []  # the counter says nothing was committed after 2
    assert (await bus.catch_up(ticket, 1))[0] is None  # seq 2 is only in the store now
