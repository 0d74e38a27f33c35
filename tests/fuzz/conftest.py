"""The hostile-input suite: a short form in `make test`, the full form by `make fuzz` (HELPLINE_FUZZ=full)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, settings

from tests.services import ROOT, SECRET, Gateway, free_port, migrate, postgres_database, sqlite_url

FULL = os.environ.get("HELPLINE_FUZZ") == "full"
settings.register_profile("helpline-short", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("helpline-full", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("helpline-full" if FULL else "helpline-short")

ORIGIN = "https://platform.example"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile_gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """PostgreSQL matters here: it refuses some text SQLite keeps, and a refused message must never be acked."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([sqlite_url(tmp_path_factory.mktemp("fuzz"))])
    else:
        urls = postgres_database()
    for url in urls:
        migrate(url)
        node = Gateway(url, HELPLINE_ALLOWED_ORIGINS=ORIGIN, HELPLINE_HELLO_TIMEOUT_S="2",
                       HELPLINE_MAX_CONNECTIONS_PER_USER="5").start()
        yield node
        node.stop()


class StatusProcess:
    """A real `helpline statuspage` process on a free port with its own store (its probes find no gateway)."""

    def __init__(self, status_database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HELPLINE_SECRET": SECRET, "HELPLINE_STATUS_DATABASE_URL": status_database_url,
                    "STATUS_PORT": str(self.port), "HOST": "127.0.0.1", "PORT": str(free_port())}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "StatusProcess":
        self.process = subprocess.Popen([sys.executable, "-m", "realtime.cli", "statuspage"], env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"statuspage exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("statuspage did not come up")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile_status(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StatusProcess]:
    """PostgreSQL matters here as for the gateway: it refuses text (NUL) and ids that SQLite takes."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('status-fuzz') / 'status.db'}"])
    else:
        urls = postgres_database()
    for url in urls:
        service = StatusProcess(url).start()
        yield service
        service.stop()
