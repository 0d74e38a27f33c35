"""Fixtures of the workflow suite: a real gateway process on SQLite and on PostgreSQL, tokens, an HTTP client."""

from __future__ import annotations

import uuid
from typing import AsyncIterator, Iterator

import httpx
import pytest

from tests.services import Gateway, auth, token  # noqa: F401 - the suite imports token and auth from here

# Tests write faster than a person: lift the per-user write limit so it never decides an outcome here.
WORKFLOW_ENV = {"HELPLINE_HTTP_WRITE_BURST": "10000", "HELPLINE_HTTP_WRITE_RATE_PER_S": "1000"}


@pytest.fixture(scope="module")
def gateway(database_url: str) -> Iterator[Gateway]:
    node = Gateway(database_url, **WORKFLOW_ENV).start()
    yield node
    node.stop()


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=20) as client:
        yield client


def person(name: str, plan: str = "free", role: str = "customer") -> str:
    """A token for a new user of this name: unique per call, so tests never see each other's users."""
    return token(f"{name}-{uuid.uuid4().hex[:8]}", plan, role, name.title())
