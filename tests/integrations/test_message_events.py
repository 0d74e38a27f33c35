"""`message.created` events are written in the batch's own transaction when, and only when, an active endpoint
takes them; on SQLite and on PostgreSQL (where the batch goes through COPY), with the same payload either way."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import AsyncIterator

import msgspec
import pytest
from sqlalchemy import delete, select

from persistence import outbox
from persistence.models import Ticket
from persistence.models_integrations import OutboxEvent, WebhookEndpoint
from persistence.store import TicketStore
from support.core.clock import iso, parse_iso, utcnow
from support.core.model import Message, User


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[TicketStore]:
    store = TicketStore(database_url)
    yield store
    async with store.sessions.begin() as session:  # endpoints are global: leave none for the next test
        await session.execute(delete(WebhookEndpoint))
    await store.close()


def message(ticket: str, seq: int, role: str = "customer", internal: bool = False) -> Message:
    """Each seq a millisecond after the one before, so the order of times within a batch is the order of seqs."""
    return Message(
        id=f"{ticket}:{seq}",
        ticket=ticket,
        seq=seq,
        client_id=f"c{seq}",
        author=User(id=f"{role}-1", name=role.title(), role=role),
        body=f"body {seq}",
        internal=internal,
        created_at=iso(utcnow() + timedelta(milliseconds=seq)) or "",
    )


async def add_endpoint(
    store: TicketStore, events: list[str], include_internal: bool = False, active: bool = True, failing: bool = False
) -> None:
    now = utcnow()
    async with store.sessions.begin() as session:
        session.add(
            WebhookEndpoint(
                id="whk_" + secrets.token_hex(6),
                url="http://127.0.0.1:9/hook",
                secret="whsec_test",
                events=events,
                include_internal=include_internal,
                description="",
                active=active,
                failing=failing,
                failing_since=now if failing else None,
                created_by="admin",
                created_at=now,
                updated_at=now,
            )
        )


async def message_events(store: TicketStore, ticket: str) -> dict[int, dict]:  # type: ignore[type-arg]
    async with store.sessions() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.ticket_id == ticket, OutboxEvent.type == "message.created")
        )
        return {event.payload["data"]["message"]["seq"]: event.payload for event in rows}


async def test_no_message_event_is_written_when_no_active_endpoint_takes_it(store: TicketStore) -> None:
    await add_endpoint(store, ["ticket.created", "ticket.updated"])
    await add_endpoint(store, ["message.created"], active=False)
    await add_endpoint(store, ["message.created"], failing=True)
    ticket = secrets.token_hex(6)
    await store.write_messages([message(ticket, seq) for seq in range(1, 6)])
    assert await message_events(store, ticket) == {}
    assert [m.seq for m in await store.messages_after(ticket, 0, 100, include_internal=True)] == [1, 2, 3, 4, 5]


async def test_every_message_gets_its_event_once_when_an_endpoint_takes_them(store: TicketStore) -> None:
    await add_endpoint(store, ["message.created"])
    ticket = secrets.token_hex(6)
    batch = [
        message(ticket, 1),
        message(ticket, 2, "agent"),
        message(ticket, 3, "agent", internal=True),
        message(ticket, 4),
    ]
    await store.write_messages(batch[:2])
    await store.write_messages(batch)  # a replay that overlaps what is written: only the rest is added
    await store.write_messages(batch)  # a replay of a batch written whole adds nothing
    assert [m.seq for m in await store.messages_after(ticket, 0, 100, include_internal=True)] == [1, 2, 3, 4]
    events = await message_events(store, ticket)
    assert sorted(events) == [1, 2, 4]  # the endpoint did not ask for internal notes
    for m in batch:
        if m.seq in events:  # the payload is the envelope webhooks document, whichever engine wrote it
            expected = outbox.message_created(m, parse_iso(m.created_at))["payload"]
            assert events[m.seq] == msgspec.json.decode(msgspec.json.encode(expected))


async def test_internal_notes_get_events_for_an_endpoint_that_asked_for_them(store: TicketStore) -> None:
    await add_endpoint(store, ["message.created"], include_internal=True)
    ticket = secrets.token_hex(6)
    await store.write_messages([message(ticket, 1), message(ticket, 2, "agent", internal=True)])
    assert sorted(await message_events(store, ticket)) == [1, 2]


async def test_a_batch_advances_its_tickets_and_a_replay_changes_nothing(store: TicketStore) -> None:
    ticket = secrets.token_hex(6)
    opened = utcnow()
    async with store.sessions.begin() as session:
        session.add(
            Ticket(
                id=ticket,
                customer_id="kim",
                customer_name="Kim",
                subject="s",
                category="question",
                status="open",
                plan="pro",
                priority=3,
                created_at=opened,
                updated_at=opened,
                last_seq=0,
            )
        )
    batch = [
        message(ticket, 1),
        message(ticket, 2, "agent", internal=True),
        message(ticket, 3, "agent"),
        message(ticket, 4),
    ]
    await store.write_messages(batch)
    await store.write_messages(batch[:2])
    view = await store.get_ticket(ticket)
    assert view is not None
    assert view.last_seq == 4
    assert view.first_response_at == batch[2].created_at  # the first agent reply, not the internal note
    assert view.updated_at == batch[3].created_at
