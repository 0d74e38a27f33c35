"""The persistence worker in process, on real Redis and SQLite: every committed message lands once."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from persistence.store import TicketStore
from persistence.worker import PersistenceWorker
from realtime.bus.redis.bus import RedisBus
from support.core.stream import PERSIST_GROUP, persist_lag
from support.core.settings import Settings
from tests.bus.conftest import Sink, draft, new_ticket
from tests.services import REDIS_URL


@pytest.fixture
async def bus(store: TicketStore, redis_prefix: str) -> AsyncIterator[RedisBus]:
    bus = RedisBus(REDIS_URL, store, prefix=redis_prefix)
    await bus.start(Sink())
    yield bus
    await bus.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def start_worker(store: TicketStore, redis_prefix: str) -> AsyncIterator[Callable[..., PersistenceWorker]]:
    running: list[tuple[PersistenceWorker, asyncio.Task[None]]] = []

    def start(claim_idle_s: float = 30.0) -> PersistenceWorker:
        settings = Settings(
            database_url=store.url, redis_url=REDIS_URL, key_prefix=redis_prefix, worker_claim_idle_s=claim_idle_s
        )
        worker = PersistenceWorker(settings)
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, task in running:
        worker.stop()
        await asyncio.wait_for(task, 10)
        await worker.close()


async def history_of(store: TicketStore, ticket: str) -> list[tuple[int, str]]:
    return [(m.seq, m.client_id) for m in await store.messages_after(ticket, 0, 10_000, include_internal=True)]


async def wait_for_history(store: TicketStore, ticket: str, count: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(await history_of(store, ticket)) < count:
        assert asyncio.get_running_loop().time() < deadline, f"history has {len(await history_of(store, ticket))}"
        await asyncio.sleep(0.1)


async def test_every_committed_message_is_written_once_and_the_stream_trimmed(
    bus: RedisBus,
    store: TicketStore,
    start_worker: Callable[..., PersistenceWorker],
    redis_client: aioredis.Redis,
    redis_prefix: str,
) -> None:
    ticket = new_ticket()
    await asyncio.gather(*(bus.commit(draft(ticket, f"c{i}")) for i in range(300)))
    start_worker()
    await wait_for_history(store, ticket, 300)
    history = await history_of(store, ticket)
    assert [s for s, _ in history] == list(range(1, 301))
    assert sorted(c for _, c in history) == sorted(f"c{i}" for i in range(300))
    stream = f"{redis_prefix}:persist"
    for _ in range(100):  # trimming follows the acks within a maintenance round
        if await redis_client.xlen(stream) == 0:
            break
        await asyncio.sleep(0.1)
    assert await redis_client.xlen(stream) == 0
    assert (await persist_lag(redis_client, stream))[0] == 0


async def test_entries_a_dead_worker_left_pending_are_claimed_and_never_trimmed(
    bus: RedisBus,
    store: TicketStore,
    start_worker: Callable[..., PersistenceWorker],
    redis_client: aioredis.Redis,
    redis_prefix: str,
) -> None:
    ticket = new_ticket()
    stream = f"{redis_prefix}:persist"
    for i in range(40):
        await bus.commit(draft(ticket, f"c{i}"))
    await redis_client.xgroup_create(stream, PERSIST_GROUP, id="0", mkstream=True)
    await redis_client.xreadgroup(PERSIST_GROUP, "dead-worker", {stream: ">"}, count=25)  # read, never acked
    patient = start_worker(claim_idle_s=60)
    await wait_for_history(store, ticket, 15)
    await asyncio.sleep(0.5)
    assert [s for s, _ in await history_of(store, ticket)] == list(range(26, 41))
    assert await redis_client.xlen(stream) >= 25  # the dead worker's entries are still there
    lag, _seconds = await persist_lag(redis_client, stream)
    assert lag == 25
    start_worker(claim_idle_s=0.2)  # a worker that claims what was abandoned
    await wait_for_history(store, ticket, 40)
    assert [s for s, _ in await history_of(store, ticket)] == list(range(1, 41))
    assert patient is not None


async def test_several_workers_share_the_stream(
    bus: RedisBus, store: TicketStore, start_worker: Callable[..., PersistenceWorker]
) -> None:
    tickets = [new_ticket() for _ in range(3)]
    start_worker()
    start_worker()
    start_worker()
    await asyncio.gather(*(bus.commit(draft(t, f"c{i}")) for i in range(100) for t in tickets))
    for t in tickets:
        await wait_for_history(store, t, 100)
        assert [s for s, _ in await history_of(store, t)] == list(range(1, 101))
