"""Fixtures of the integration suite: a real gateway process on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.services import Gateway, auth, token  # noqa: F401 - the suite imports token and auth from here

GATEWAY_ENV = {
    "HELPLINE_TYPING_TTL_S": "1.5",
    "HELPLINE_HELLO_TIMEOUT_S": "1.5",
    "HELPLINE_ALLOWED_ORIGINS": "https://platform.example",
}


@pytest.fixture(scope="module")
def gateway(database_url: str) -> Iterator[Gateway]:
    node = Gateway(database_url, **GATEWAY_ENV).start()
    yield node
    node.stop()
