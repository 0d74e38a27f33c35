"""Fixtures for the status page: real uvicorn on a free port, a real fake gateway, SQLite and PostgreSQL stores."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Awaitable, Callable, Iterator, TypeVar

import asyncpg
import pytest
import uvicorn
from starlette.applications import Starlette

from support.core.tokens import issue_token

SECRET = "status-test-secret-" + "x" * 32
PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
T = TypeVar("T")
FAKE_GATEWAY = Path(__file__).with_name("fake_gateway.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(role: str = "admin", secret: str = SECRET, ttl_s: int = 600) -> dict[str, str]:
    return {"authorization": f"Bearer {issue_token(secret, 'u-' + role, name=role, role=role, ttl_s=ttl_s)}"}


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run the app under a real uvicorn in a thread; yields its base URL and stops it cleanly."""
    port = free_port()
    server = uvicorn.Server(
        # A bounded shutdown: open /api/stream subscriptions are cut after it, as `helpline statuspage` does.
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("status page did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


class FakeGateway:
    """A real HTTP server in its own process that answers /readyz like the gateway does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/readyz"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, mode: str = "ok") -> None:
        self.proc = subprocess.Popen([sys.executable, str(FAKE_GATEWAY), str(self.port), mode], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"listening"

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    gw = FakeGateway()
    yield gw
    gw.kill()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'status.db'}"


def _in_own_loop(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run admin SQL on a private loop in a thread, so sync fixtures work under any test's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result()  # type: ignore[arg-type]


def _create_database() -> str:
    async def create() -> str:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
        try:
            name = f"helpline_test_{secrets.token_hex(6)}"
            await conn.execute(f'CREATE DATABASE "{name}"')
            return name
        finally:
            await conn.close()

    try:
        return _in_own_loop(create)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at 127.0.0.1:5432 under CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable at 127.0.0.1:5432: {exc}")


def _drop_database(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _in_own_loop(drop)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on 127.0.0.1:5432, dropped afterwards; skipped when unreachable unless CI=true."""
    name = _create_database()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        _drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same store and lifecycle tests run on both backends."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'status.db'}"
        return
    name = _create_database()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        _drop_database(name)
