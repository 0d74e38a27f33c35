"""Real services for tests: PostgreSQL databases, Redis prefixes, gateway processes on free ports.

Anything unreachable skips with a reason, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get("HELPLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-" + "x" * 32
RELAXED_LIMITS = {
    "HELPLINE_FRAME_RATE_PER_S": "5000",
    "HELPLINE_FRAME_BURST": "20000",
    "HELPLINE_HTTP_WRITE_RATE_PER_S": "5000",
    "HELPLINE_HTTP_WRITE_BURST": "20000",
    "HELPLINE_ANONYMOUS_WRITE_RATE_PER_S": "5000",
    "HELPLINE_ANONYMOUS_WRITE_BURST": "20000",
    "HELPLINE_CONNECTION_RATE_PER_S": "5000",
    "HELPLINE_CONNECTION_BURST": "20000",
}


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required services must be reachable)")
    pytest.skip(reason)


def require_redis() -> None:
    """Skip (fail under CI=true) unless the shared Redis answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is not reachable: {exc}")
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test module; dropped afterwards."""
    name = f"helpline_test_{secrets.token_hex(6)}"
    try:
        _pg(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL means the same here
        unavailable(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    url = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"


def migrate(url: str) -> None:
    from persistence.migrate import upgrade

    upgrade(url)


def migrated_database(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database of this engine ("sqlite" or "postgres"), removed afterwards."""
    if engine == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("db"))
        migrate(url)
        yield url
    else:
        for url in postgres_database():
            migrate(url)
            yield url


def token(sub: str, plan: str = "free", role: str = "customer", name: str | None = None) -> str:
    from support.core.tokens import issue_token

    return issue_token(SECRET, sub, name or sub.title(), plan, role)


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


class Gateway:
    """A real `helpline gateway` process on a free port."""

    def __init__(self, database_url: str, redis_url: str | None = None, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        # Generous rate limits unless a test sets its own: tests send bursts no person would. A short drain: a
        # test's SIGTERM should not wait the production window for clients it left connected.
        self.env = {
            **os.environ,
            "HELPLINE_SECRET": SECRET,
            "HELPLINE_DATABASE_URL": database_url,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "HELPLINE_DRAIN_S": "0.5",
            **RELAXED_LIMITS,
            **env,
        }
        self.env.pop("HELPLINE_REDIS_URL", None)
        if redis_url:
            self.env["HELPLINE_REDIS_URL"] = redis_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, command: str = "gateway") -> "Gateway":
        self.process = subprocess.Popen([sys.executable, "-m", "helpline.cli", command], env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 90  # a loaded machine starts Python slowly (25 s at load 30 seen)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gateway did not come up")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
