"""Fixtures of the bus contract suite: each backend on a real, migrated SQLite store; Redis under its own prefix."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from persistence.store import TicketStore
from support.core.bus import Bus, BusEvent, Draft
from realtime.bus.memory import MemoryBus
from realtime.bus.redis.bus import RedisBus
from support.core.model import User
from tests.scaleout.redis_cluster import ClusterDeployment
from tests.scaleout.sentinels import SentinelDeployment
from tests.services import REDIS_URL, migrate, sqlite_url, unavailable


class Sink:
    """What a node's hub would receive: (ticket, event) in arrival order."""

    def __init__(self) -> None:
        self.events: list[tuple[str | None, BusEvent]] = []
        self._arrived = asyncio.Event()

    def __call__(self, ticket: str | None, event: BusEvent) -> None:
        self.events.append((ticket, event))
        self._arrived.set()

    def of(self, kind: type) -> list[BusEvent]:
        return [e for _, e in self.events if isinstance(e, kind)]

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s; events: {self.events[-5:]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.1))
            except asyncio.TimeoutError:
                pass


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TicketStore]:
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(migrate, url)
    store = TicketStore(url)
    yield store
    await store.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A random key prefix on the shared Redis; every key under it is deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        client.close()
        unavailable(f"Redis at {REDIS_URL} is not reachable: {exc}")
    prefix = f"hltest-{secrets.token_hex(6)}"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


BusFactory = Callable[[], Awaitable[tuple[Bus, Sink]]]


@pytest.fixture(scope="session")
def sentinel_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelDeployment]:
    """One primary, two replicas, three sentinels of the suite's own (thrown away with their data at the end)."""
    deployment = SentinelDeployment(tmp_path_factory.mktemp("sentinel"))
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="session")
def cluster_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterDeployment]:
    """Three primaries and three replicas in a Redis Cluster of the suite's own (thrown away at the end)."""
    deployment = ClusterDeployment(tmp_path_factory.mktemp("cluster"))
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


# redis+sentinel: the primary that Sentinel names; replicated: the same with HELPLINE_REDIS_MIN_REPLICAS=1;
# cluster: a 3-primary Redis Cluster (sharded pub/sub, a persistence stream per slot group).
BACKENDS = ["memory", "redis", "sentinel", "sentinel-replicated", "cluster"]


@pytest.fixture(params=BACKENDS)
async def open_node(request: pytest.FixtureRequest, store: TicketStore) -> AsyncIterator[BusFactory]:
    """Opens a started bus (a "node") of the backend under test, with its own sink; closed afterwards."""
    url, prefix, replicas = REDIS_URL, "", 0
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
    elif request.param.startswith("sentinel"):
        url, prefix = request.getfixturevalue("sentinel_deployment").url, f"hltest-{secrets.token_hex(6)}"
        replicas = 1 if request.param == "sentinel-replicated" else 0
    elif request.param == "cluster":
        url, prefix = request.getfixturevalue("cluster_deployment").url, f"hltest-{secrets.token_hex(6)}"
    opened: list[Bus] = []

    async def open_one() -> tuple[Bus, Sink]:
        bus: Bus = (
            MemoryBus(store)
            if request.param == "memory"
            else RedisBus(url, store, prefix=prefix, presence_ttl_s=0.6, min_replicas=replicas)
        )
        sink = Sink()
        await bus.start(sink)
        opened.append(bus)
        if isinstance(bus, RedisBus):
            await until_ready(bus)
        return bus, sink

    yield open_one
    for bus in opened:
        await bus.close()


async def until_ready(bus: RedisBus) -> None:
    """The pub/sub connection comes up in the background."""
    for _ in range(100):
        if await bus.ready():
            return
        await asyncio.sleep(0.02)


async def drop_pubsub_connections(prefix: str) -> int:
    """Kill every node's pub/sub connection under this prefix, as a network blip would; how many there were."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        listeners = [c for c in await client.client_list(_type="pubsub") if c["name"] == f"{prefix}:gateway"]
        for listener in listeners:
            await client.client_kill_filter(_id=listener["id"])
        return len(listeners)
    finally:
        await client.aclose()


RedisNode = Callable[..., Awaitable[tuple[RedisBus, Sink]]]


@pytest.fixture
async def redis_nodes(store: TicketStore, redis_prefix: str) -> AsyncIterator[RedisNode]:
    """Opens Redis bus nodes sharing one store and one key prefix (`url`, `ttl` for presence); closed afterwards."""
    opened: list[RedisBus] = []

    async def open_one(url: str = REDIS_URL, ttl: float = 0.6) -> tuple[RedisBus, Sink]:
        bus, sink = RedisBus(url, store, prefix=redis_prefix, presence_ttl_s=ttl), Sink()
        await bus.start(sink)
        opened.append(bus)
        await until_ready(bus)
        return bus, sink

    yield open_one
    for bus in opened:
        await bus.close()


def draft(ticket: str, client_id: str, body: str = "hello", role: str = "customer", internal: bool = False) -> Draft:
    return Draft(ticket, client_id, User(f"{role}-1", role.title(), role), body, internal, "2025-01-01T00:00:00Z")


def new_ticket() -> str:
    return secrets.token_hex(6)
