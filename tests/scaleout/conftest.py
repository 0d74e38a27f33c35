"""Fixtures of the scale-out suite: the bus suite's SQLite store and Redis prefix, plus real processes."""

from __future__ import annotations

from typing import Iterator

import pytest
import redis

from tests.bus.conftest import cluster_deployment, redis_prefix, store  # noqa: F401 - fixtures shared with the bus suite
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
