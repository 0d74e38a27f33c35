"""Fixtures of the fault suite: a fresh PostgreSQL database behind an outage proxy, a private redis-server with
AOF (appendfsync always), and the deployment of gateway nodes and the worker on them."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest

from tests.chaos.deployment import Deployment
from tests.chaos.proxy import OutageProxy
from tests.scaleout.processes import PrivateRedis
from tests.services import migrate, postgres_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    for url in postgres_database():
        migrate(url)
        yield url


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[OutageProxy]:
    where = urlsplit(pg_url)
    proxy = OutageProxy(where.hostname or "127.0.0.1", where.port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, durable=True).start()
    yield server
    server.kill()


@pytest.fixture
async def deployment(
    pg_url: str, pg_proxy: OutageProxy, private_redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[Deployment]:
    where = urlsplit(pg_url)
    proxied = pg_url.replace(f"{where.hostname}:{where.port}", f"127.0.0.1:{pg_proxy.port}")
    deployment = Deployment(proxied, private_redis, pg_proxy, nodes=3, tmp=tmp_path)
    try:
        await deployment.start()
        yield deployment
    finally:
        deployment.stop()
