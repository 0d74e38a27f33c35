"""The persistence worker in process on real Redis, on SQLite and on PostgreSQL: large batches land once, with the
webhook events an endpoint takes, and a batch written but never acknowledged is replayed without a duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from sqlalchemy import delete, func, select

from persistence.models_integrations import OutboxEvent, WebhookEndpoint
from persistence.store import TicketStore
from persistence.worker import PersistenceWorker, decode_entries
from realtime.bus.redis.bus import RedisBus
from support.core.stream import PERSIST_GROUP, persist_lag
from support.core.clock import utcnow
from support.core.settings import Settings
from tests.bus.conftest import Sink, draft, new_ticket, redis_prefix  # noqa: F401 - the Redis prefix fixture
from tests.services import REDIS_URL


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[TicketStore]:
    store = TicketStore(database_url)
    yield store
    async with store.sessions.begin() as session:
        await session.execute(delete(WebhookEndpoint))
    await store.close()


@pytest.fixture
async def bus(store: TicketStore, redis_prefix: str) -> AsyncIterator[RedisBus]:  # noqa: F811
    bus = RedisBus(REDIS_URL, store, prefix=redis_prefix)
    await bus.start(Sink())
    yield bus
    await bus.close()


@contextlib.asynccontextmanager
async def running_worker(store: TicketStore, prefix: str, claim_idle_s: float = 30.0) -> AsyncIterator[None]:
    worker = PersistenceWorker(
        Settings(database_url=store.url, redis_url=REDIS_URL, key_prefix=prefix, worker_claim_idle_s=claim_idle_s)
    )
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
        await worker.close()


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.1)


async def written(store: TicketStore, ticket: str) -> list[int]:
    return [m.seq for m in await store.messages_after(ticket, 0, 100_000, include_internal=True)]


async def has_written(store: TicketStore, ticket: str, count: int) -> bool:
    return len(await written(store, ticket)) >= count


async def message_event_count(store: TicketStore, ticket: str) -> int:
    async with store.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.ticket_id == ticket, OutboxEvent.type == "message.created")
            )
            or 0
        )


async def test_a_backlog_lands_once_in_order_with_the_events_an_endpoint_takes(
    bus: RedisBus,
    store: TicketStore,
    redis_prefix: str,  # noqa: F811
) -> None:
    now = utcnow()
    async with store.sessions.begin() as session:
        session.add(
            WebhookEndpoint(
                id="whk_" + secrets.token_hex(6),
                url="http://127.0.0.1:9/hook",
                secret="whsec_test",
                events=["message.created"],
                include_internal=False,
                description="",
                active=True,
                failing=False,
                created_by="admin",
                created_at=now,
                updated_at=now,
            )
        )
    tickets = [new_ticket() for _ in range(3)]
    for t in tickets:
        await asyncio.gather(
            *(bus.commit(draft(t, f"c{i}", internal=i % 10 == 0, role="agent")) for i in range(1, 1201))
        )
    async with running_worker(store, redis_prefix):
        for t in tickets:
            await until(lambda: has_written(store, t, 1200), f"1200 messages of {t} written")
    for t in tickets:
        assert await written(store, t) == list(range(1, 1201))
        assert await message_event_count(store, t) == 1200 - 120  # every message but the internal notes


async def test_a_batch_written_but_never_acknowledged_is_replayed_without_a_duplicate(
    bus: RedisBus,
    store: TicketStore,
    redis_prefix: str,  # noqa: F811
) -> None:
    ticket = new_ticket()
    stream = f"{redis_prefix}:persist"
    for i in range(60):
        await bus.commit(draft(ticket, f"c{i}"))
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.xgroup_create(stream, PERSIST_GROUP, id="0", mkstream=True)
        reply = await client.xreadgroup(PERSIST_GROUP, "crashed-worker", {stream: ">"}, count=40)
        entries = reply[stream.encode()] if isinstance(reply, dict) else reply[0][1]
        _ids, rows = decode_entries(entries)
        await store.write_rows(rows)  # committed, then the worker died before its XACK
        async with running_worker(store, redis_prefix, claim_idle_s=0.2):
            await until(lambda: has_written(store, ticket, 60), "every message written")

            async def nothing_pending() -> bool:
                return (await persist_lag(client, stream))[0] == 0

            await until(nothing_pending, "the claimed entries acknowledged once written again")
    finally:
        await client.aclose()
    assert await written(store, ticket) == list(range(1, 61))
