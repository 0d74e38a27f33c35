"""The embedded default's batch write (persistence/sqlite_writes.py): a group larger than one statement's chunk, over
several tickets, reads back as written; a replay changes nothing; the first agent reply is the ticket's first
response; and a write made while another connection holds SQLite's write lock waits for it instead of failing."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import AsyncIterator

import pytest

from persistence.store import TicketStore
from support.core.bus import Draft
from support.core.clock import iso, utcnow
from support.core.model import Customer, Message, User
from support.core.stores import NewTicket
from tests.services import migrate, sqlite_url


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TicketStore]:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate, url)
    store = TicketStore(url)
    yield store
    await store.close()


async def open_ticket(store: TicketStore, ticket: str) -> None:
    now = utcnow()
    customer = User(f"{ticket}-customer", "Customer", "customer")
    new = NewTicket(
        id=ticket,
        customer=Customer(customer.id, customer.name),
        client_id=None,
        subject="help",
        body="first",
        category="general",
        plan="free",
        priority="normal",
        page_url=None,
        context=None,
        created_at=now,
        first_response_due=now + timedelta(hours=1),
    )
    await store.create_ticket(
        new, Draft(ticket, f"ticket:{ticket}", customer, "first", False, iso(now) or "").committed(1)
    )


def reply(ticket: str, seq: int, role: str) -> Message:
    return Draft(ticket, f"m{seq}", User(f"{role}-1", role, role), f"body {seq}", False, iso(utcnow()) or "").committed(
        seq
    )


async def test_a_group_larger_than_a_statement_reads_back_in_order_and_a_replay_changes_nothing(
    store: TicketStore,
) -> None:
    await open_ticket(store, "t-a")
    await open_ticket(store, "t-b")
    batch = [reply("t-a", seq, "customer") for seq in range(2, 702)] + [reply("t-b", 2, "agent")]
    await store.write_messages(batch)
    await store.write_messages(batch[:10] + batch[-1:])  # the group's ack was lost: written again

    a = await store.messages_after("t-a", 0, 1000, include_internal=True)
    assert [m.seq for m in a] == list(range(1, 702))
    assert a[-1].body == "body 701" and a[-1].author.role == "customer"
    ticket_a, ticket_b = await store.get_ticket("t-a"), await store.get_ticket("t-b")
    assert ticket_a is not None and ticket_b is not None
    assert ticket_a.last_seq == 701 and ticket_a.first_response_at is None  # customers' messages answer nothing
    assert ticket_a.updated_at == max(m.created_at for m in batch[:-1])  # the replay did not set it back
    assert ticket_b.last_seq == 2 and ticket_b.first_response_at == batch[-1].created_at


async def test_a_write_waits_for_another_writer_instead_of_failing(store: TicketStore, tmp_path: Path) -> None:
    await open_ticket(store, "t-c")
    other = sqlite3.connect(tmp_path / "helpline.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    write = asyncio.create_task(store.write_messages([reply("t-c", 2, "agent")]))
    await asyncio.sleep(0.3)
    assert not write.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(write, 10)
    assert [m.seq for m in await store.messages_after("t-c", 0, 10, include_internal=True)] == [1, 2]
