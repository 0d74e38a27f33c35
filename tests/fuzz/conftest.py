"""The hostile-input suite: a short form in `make test`, the full form by `make fuzz` (HELPLINE_FUZZ=full)."""

from __future__ import annotations

import os
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.services import Gateway, free_port, migrate, postgres_database, sqlite_url

FULL = os.environ.get("HELPLINE_FUZZ") == "full"
settings.register_profile(
    "helpline-short",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "helpline-full",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
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
        node = Gateway(
            url, HELPLINE_ALLOWED_ORIGINS=ORIGIN, HELPLINE_HELLO_TIMEOUT_S="2", HELPLINE_MAX_CONNECTIONS_PER_USER="5"
        ).start()
        yield node
        node.stop()


def status_process(status_database_url: str) -> Gateway:
    """A real `helpline statuspage` process on a free port with its own store (its probes find no gateway)."""
    service = Gateway(
        "sqlite+aiosqlite:///unused-by-the-status-page.db", HELPLINE_STATUS_DATABASE_URL=status_database_url
    )
    service.env.update({"STATUS_PORT": str(service.port), "PORT": str(free_port())})
    return service.start("statuspage")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hostile_status(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """PostgreSQL matters here as for the gateway: it refuses text (NUL) and ids that SQLite takes."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('status-fuzz') / 'status.db'}"])
    else:
        urls = postgres_database()
    for url in urls:
        service = status_process(url)
        yield service
        service.stop()
