"""Before a process serves anything: its database and its Redis answer, or it stops with one line saying which.

Retries for HELPLINE_BACKEND_WAIT_S (a container may start before its database), then gives up: a node that
cannot reach its backends must not come up looking healthy.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from support.core.environment import SettingsError
from support.core.redis_url import parse_redis_url, redis_client


def _where(url: str) -> str:
    return url.split("@")[-1]  # never the password


async def _database(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), 5)
    finally:
        await engine.dispose()


async def _redis(url: str) -> None:
    # Through the sentinels for a redis+sentinel:// URL: what answers is the primary they name.
    client = redis_client(parse_redis_url(url), socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _until_reachable(variable: str, url: str, check, wait_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + wait_s
    while True:
        try:
            await check(url)
            return
        except Exception as exc:
            if time.monotonic() >= deadline:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise SettingsError(f"{variable}: cannot reach {_where(url)} after {wait_s:g} s ({reason})") from None
            await asyncio.sleep(0.5)


def check_backends(
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    status_database_url: str | None = None,
    wait_s: float = 10.0,
) -> None:
    async def run() -> None:
        checks = []
        if database_url:
            checks.append(_until_reachable("HELPLINE_DATABASE_URL", database_url, _database, wait_s))
        if status_database_url:
            checks.append(_until_reachable("HELPLINE_STATUS_DATABASE_URL", status_database_url, _database, wait_s))
        if redis_url:
            checks.append(_until_reachable("HELPLINE_REDIS_URL", redis_url, _redis, wait_s))
        await asyncio.gather(*checks)

    asyncio.run(run())
