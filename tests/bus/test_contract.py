"""The bus contract (realtime/bus/base.py), one suite for every backend: a backend is done when it passes."""

from __future__ import annotations

import asyncio

import msgspec

from persistence.store import TicketStore
from realtime.bus.memory import MemoryBus
from support.core.bus import MessageEvent, PresenceEvent, ReadEvent, TicketEvent, TypingEvent
from support.core.model import Customer, TicketView, User
from tests.bus.conftest import BusFactory, draft, new_ticket


async def test_seqs_follow_the_history_without_gaps(open_node: BusFactory, store: TicketStore) -> None:
    ticket = new_ticket()
    await store.write_messages([draft(ticket, "opening").committed(1)])
    bus, _ = await open_node()
    results = await asyncio.gather(*(bus.commit(draft(ticket, f"c{i}")) for i in range(30)))
    assert sorted(r.message.seq for r in results) == list(range(2, 32))
    assert not any(r.duplicate for r in results)


async def test_repeated_client_id_returns_the_first_commit_and_appends_nothing(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    first = await bus.commit(draft(ticket, "same", body="first words"))
    again = await asyncio.gather(*(bus.commit(draft(ticket, "same", body="retry")) for _ in range(5)))
    assert all(r.duplicate and r.message.seq == first.message.seq for r in again)
    assert all(r.message.body == "first words" for r in again)
    nxt = await bus.commit(draft(ticket, "other"))
    assert nxt.message.seq == first.message.seq + 1
    await sink.until(lambda: len(sink.of(MessageEvent)) == 2)
    await asyncio.sleep(0.1)
    assert [e.message.seq for e in sink.of(MessageEvent)] == [1, 2]  # type: ignore[attr-defined]


async def test_two_authors_with_one_client_id_get_two_messages(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    question = await bus.commit(draft(ticket, "same", body="is it down?"))
    note = await bus.commit(draft(ticket, "same", body="known outage", role="agent", internal=True))
    reply = await bus.commit(draft(ticket, "same", body="yes, fixing it", role="admin"))
    assert [(r.duplicate, r.message.seq, r.message.author.role, r.message.body) for r in (question, note, reply)] == [
        (False, 1, "customer", "is it down?"),
        (False, 2, "agent", "known outage"),
        (False, 3, "admin", "yes, fixing it"),
    ]
    await sink.until(lambda: len(sink.of(MessageEvent)) == 3)
    assert [e.message.author.role for e in sink.of(MessageEvent)] == ["customer", "agent", "admin"]  # type: ignore


async def test_a_repeat_is_answered_with_the_callers_own_message(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, _ = await open_node()
    await bus.commit(draft(ticket, "same", body="known outage", role="agent", internal=True))
    await bus.commit(draft(ticket, "same", body="is it down?"))
    customer_retry = await bus.commit(draft(ticket, "same", body="retry"))
    agent_retry = await bus.commit(draft(ticket, "same", body="retry", role="agent", internal=True))
    assert customer_retry.duplicate and agent_retry.duplicate
    assert (customer_retry.message.seq, customer_retry.message.body, customer_retry.message.internal) == (
        2,
        "is it down?",
        False,
    )
    assert (agent_retry.message.seq, agent_retry.message.body, agent_retry.message.author.role) == (
        1,
        "known outage",
        "agent",
    )
    assert (await bus.commit(draft(ticket, "next"))).message.seq == 3  # the repeats took no seq


async def test_a_node_started_on_an_earlier_history_answers_each_author_with_its_own(
    open_node: BusFactory, store: TicketStore
) -> None:
    """A restarted process (the memory bus seeds from the database; the Redis bus has no keys for the ticket yet)."""
    ticket = new_ticket()
    await store.write_messages(
        [
            draft(ticket, "same", body="known outage", role="agent", internal=True).committed(1),
            draft(ticket, "same", body="is it down?").committed(2),
        ]
    )
    bus, _ = await open_node()
    customer_retry = await bus.commit(draft(ticket, "same", body="retry"))
    assert customer_retry.duplicate
    assert (customer_retry.message.seq, customer_retry.message.body, customer_retry.message.internal) == (
        2,
        "is it down?",
        False,
    )
    other_agent = await bus.commit(draft(ticket, "same", body="on it", role="admin"))
    assert not other_agent.duplicate and other_agent.message.seq == 3 and other_agent.message.body == "on it"
    agent_retry = await bus.commit(draft(ticket, "same", body="retry", role="agent", internal=True))
    assert agent_retry.duplicate and agent_retry.message.seq == 1 and agent_retry.message.body == "known outage"


async def test_subscribers_get_every_message_once_in_seq_order(open_node: BusFactory) -> None:
    ticket, elsewhere = new_ticket(), new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    await asyncio.gather(
        *(bus.commit(draft(ticket, f"c{i}")) for i in range(40)), bus.commit(draft(elsewhere, "not subscribed"))
    )
    await sink.until(lambda: len(sink.of(MessageEvent)) >= 40)
    await asyncio.sleep(0.1)
    got = [(t, e.message.seq) for t, e in sink.events if isinstance(e, MessageEvent)]
    assert got == [(ticket, seq) for seq in range(1, 41)]


async def test_unsubscribed_ticket_is_no_longer_delivered(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    await bus.commit(draft(ticket, "a"))
    await sink.until(lambda: len(sink.of(MessageEvent)) == 1)
    await bus.unsubscribe(ticket)
    await bus.commit(draft(ticket, "b"))
    await bus.publish(ticket, TypingEvent(ticket, User("u", "U", "customer"), True))
    await asyncio.sleep(0.2)
    assert len(sink.events) == 1


async def test_recent_returns_what_follows_a_seq(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, _ = await open_node()
    for i in range(5):
        await bus.commit(draft(ticket, f"c{i}", body=f"body {i}"))
    after_two = await bus.recent(ticket, 2)
    assert after_two is not None
    assert [(m.seq, m.body) for m in after_two] == [(3, "body 2"), (4, "body 3"), (5, "body 4")]
    assert await bus.recent(ticket, 5) == []
    from_start = await bus.recent(ticket, 0)
    assert from_start is not None and [m.seq for m in from_start] == [1, 2, 3, 4, 5]


async def test_recent_is_none_when_the_short_history_does_not_reach_back(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, _ = await open_node()
    assert await bus.recent(new_ticket(), 0) is None  # nothing known: the database answers
    await asyncio.gather(*(bus.commit(draft(ticket, f"c{i}")) for i in range(800)))
    assert await bus.recent(ticket, 0) is None
    tail = await bus.recent(ticket, 790)
    assert tail is not None and [m.seq for m in tail] == list(range(791, 801))


async def test_typing_read_and_ticket_events_reach_subscribers(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    anna = User("anna", "Anna", "customer")
    await bus.publish(ticket, TypingEvent(ticket, anna, True))
    await bus.publish(ticket, ReadEvent(ticket, anna, 3, origin="conn-1"))
    view = _view(ticket)
    await bus.publish_ticket(view)  # agents' queue: delivered without subscribing to the ticket
    await sink.until(lambda: len(sink.events) == 3)
    kinds = {type(e): (t, e) for t, e in sink.events}
    assert kinds[TypingEvent] == (ticket, TypingEvent(ticket, anna, True))
    assert kinds[ReadEvent] == (ticket, ReadEvent(ticket, anna, 3, origin="conn-1"))
    assert kinds[TicketEvent][0] is None and kinds[TicketEvent][1].ticket.id == ticket  # type: ignore[attr-defined]


async def test_queue_updates_of_tickets_everywhere_reach_a_node_holding_none(open_node: BusFactory) -> None:
    """An agent's node holds no ticket and hears every ticket's changes (on a cluster they cross every shard)."""
    bus, sink = await open_node()
    tickets = [new_ticket() for _ in range(40)]  # 40 random tickets: on a cluster, most slot groups and every shard
    for ticket in tickets:
        await bus.publish_ticket(_view(ticket))
    await sink.until(lambda: len(sink.of(TicketEvent)) == len(tickets))
    assert sorted(e.ticket.id for e in sink.of(TicketEvent)) == sorted(tickets)  # type: ignore[attr-defined]
    assert all(t is None for t, e in sink.events if isinstance(e, TicketEvent))


async def test_a_batch_of_queue_updates_reaches_every_node_as_each_ticket_s_view(open_node: BusFactory) -> None:
    """The coalesced flush publishes its views together; every node (on Redis another one too) hears each ticket's
    view once, as a TicketEvent of its own."""
    sender, own = await open_node()
    sinks = [own]
    if not isinstance(sender, MemoryBus):  # an in-memory bus is one node
        sinks.append((await open_node())[1])
    tickets = [new_ticket() for _ in range(40)]  # on a cluster: spread over the queue channels of every shard
    views = [msgspec.structs.replace(_view(ticket), last_seq=i + 1) for i, ticket in enumerate(tickets)]
    await sender.publish_tickets(views)
    await sender.publish_ticket(msgspec.structs.replace(views[0], last_seq=99))  # after the batch
    for sink in sinks:
        await sink.until(lambda: len(sink.of(TicketEvent)) == len(tickets) + 1)
        heard = [(e.ticket.id, e.ticket.last_seq) for e in sink.of(TicketEvent)]  # type: ignore[attr-defined]
        assert sorted(heard) == sorted([(view.id, view.last_seq) for view in views] + [(views[0].id, 99)])
        assert [seq for ticket, seq in heard if ticket == views[0].id] == [1, 99]  # its channel keeps the order
        assert all(t is None for t, e in sink.events if isinstance(e, TicketEvent))


def _view(ticket: str) -> TicketView:
    return TicketView(
        id=ticket,
        subject="Chart",
        status="open",
        plan="pro",
        priority=3,
        category="bug",
        customer=Customer("anna", "Anna"),
        assignee=None,
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
        last_seq=0,
        first_response_due=None,
    )


async def test_presence_counts_users_not_connections(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    anna, alice = User("anna", "Anna", "customer"), User("alice", "Alice", "agent")
    await bus.presence_join(ticket, "conn-a1", anna)
    await bus.presence_join(ticket, "conn-a2", anna)  # a second tab
    await bus.presence_join(ticket, "conn-b", alice)
    assert sorted(u.id for u in await bus.presence_members(ticket)) == ["alice", "anna"]
    await bus.presence_leave(ticket, "conn-a1", anna)
    assert sorted(u.id for u in await bus.presence_members(ticket)) == ["alice", "anna"]
    await bus.presence_leave(ticket, "conn-a2", anna)
    assert [u.id for u in await bus.presence_members(ticket)] == ["alice"]
    await sink.until(lambda: len(sink.of(PresenceEvent)) == 3)
    await asyncio.sleep(0.1)
    seen = [(e.user.id, e.online) for e in sink.of(PresenceEvent)]  # type: ignore[attr-defined]
    assert seen == [("anna", True), ("alice", True), ("anna", False)]


async def test_a_join_answers_who_is_online_with_the_joiner(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, _ = await open_node()
    anna, alice = User("anna", "Anna", "customer"), User("alice", "Alice", "agent")
    assert [u.id for u in await bus.presence_join(ticket, "conn-a1", anna)] == ["anna"]
    assert [u.id for u in await bus.presence_join(ticket, "conn-a2", anna)] == ["anna"]  # a second tab: once
    online = await bus.presence_join(ticket, "conn-b", alice)
    assert sorted(u.id for u in online) == ["alice", "anna"]
    assert sorted(u.id for u in online) == sorted(u.id for u in await bus.presence_members(ticket))


async def test_refreshed_presence_stays(open_node: BusFactory) -> None:
    ticket = new_ticket()
    bus, sink = await open_node()
    await bus.subscribe(ticket)
    anna = User("anna", "Anna", "customer")
    await bus.presence_join(ticket, "conn-a", anna)
    for _ in range(4):  # longer than the presence TTL of the test nodes, renewed like heartbeats do
        await asyncio.sleep(0.3)
        await bus.presence_refresh([(ticket, "conn-a", anna)])
    assert [u.id for u in await bus.presence_members(ticket)] == ["anna"]
    assert [(e.user.id, e.online) for e in sink.of(PresenceEvent)] == [("anna", True)]  # type: ignore[attr-defined]
