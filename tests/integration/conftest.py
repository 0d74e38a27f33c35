"""Fixtures of the integration suite: a real gateway process on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import pytest

from realtime.auth import issue_token
from tests.services import SECRET, Gateway, migrate, postgres_database, sqlite_url

GATEWAY_ENV = {"HELPLINE_TYPING_TTL_S": "1.5", "HELPLINE_HELLO_TIMEOUT_S": "1.5",
               "HELPLINE_ALLOWED_ORIGINS": "https://platform.example"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("db"))
        migrate(url)
        yield url
    else:
        for url in postgres_database():
            migrate(url)
            yield url


@pytest.fixture(scope="module")
def gateway(database_url: str) -> Iterator[Gateway]:
    node = Gateway(database_url, **GATEWAY_ENV).start()
    yield node
    node.stop()


def token(sub: str, plan: str = "free", role: str = "customer", name: str | None = None) -> str:
    return issue_token(SECRET, sub, name or sub.title(), plan, role)
