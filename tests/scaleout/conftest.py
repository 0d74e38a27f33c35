"""Fixtures of the scale-out suite: the bus suite's SQLite store and Redis prefix, plus real processes."""

from __future__ import annotations

import secrets
from typing import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis

from persistence.store import TicketStore
from realtime.bus.redis.bus import RedisBus
from tests.bus.conftest import Sink, until_ready
from tests.bus.conftest import cluster_deployment, redis_prefix, store  # noqa: F401 - fixtures shared with the bus suite
from tests.scaleout.redis_cluster import ClusterDeployment
from tests.scaleout.cluster import Cluster
from tests.services import REDIS_URL, migrate, postgres_database, require_redis


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    for url in postgres_database():
        migrate(url)
        yield url


def drop_prefix(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
    except redis.RedisError:
        pass
    finally:
        client.close()


@pytest.fixture
def cluster(pg_url: str) -> Iterator[Cluster]:
    """Gateway nodes and workers on the shared Redis under a fresh prefix (started by the test as it needs)."""
    require_redis()
    cluster = Cluster(pg_url, REDIS_URL)
    yield cluster
    cluster.stop()
    drop_prefix(REDIS_URL, cluster.prefix)


ClusterNode = Callable[..., Awaitable[tuple[RedisBus, Sink]]]


@pytest.fixture
def prefix() -> str:
    return f"hltest-{secrets.token_hex(6)}"


@pytest.fixture
async def node(
    cluster_deployment: ClusterDeployment,  # noqa: F811 - the fixtures imported above, injected by name
    store: TicketStore,  # noqa: F811
    prefix: str,
) -> AsyncIterator[ClusterNode]:
    """Opens Redis bus nodes on the test cluster, sharing one store and one key prefix; closed afterwards."""
    opened: list[RedisBus] = []

    async def open_one(min_replicas: int = 0, presence_ttl_s: float = 30.0) -> tuple[RedisBus, Sink]:
        bus = RedisBus(
            cluster_deployment.url, store, prefix=prefix, min_replicas=min_replicas, presence_ttl_s=presence_ttl_s
        )
        sink = Sink()
        await bus.start(sink)
        opened.append(bus)
        await until_ready(bus)
        return bus, sink

    yield open_one
    for bus in opened:
        await bus.close()
