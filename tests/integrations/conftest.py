"""Fixtures of the integrations suite: a real gateway (SQLite and PostgreSQL) with fast webhook retries, real
webhook receivers (HTTP servers in the test process), and tokens for every role."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from tests.integrations.receiver import Receiver
from tests.services import Gateway, auth, token  # noqa: F401 - the suite imports token and auth from here

# Retries every fraction of a second and a retry "day" of a few seconds, so a failing receiver is given up on fast.
GATEWAY_ENV = {
    "HELPLINE_WEBHOOK_POLL_S": "0.1",
    "HELPLINE_WEBHOOK_BACKOFF_BASE_S": "0.2",
    "HELPLINE_WEBHOOK_BACKOFF_MAX_S": "0.8",
    "HELPLINE_WEBHOOK_RETRY_WINDOW_S": "3",
    "HELPLINE_WEBHOOK_TIMEOUT_S": "3",
}


@pytest.fixture(scope="module")
def gateway(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    attachments = tmp_path_factory.mktemp("attachments")
    node = Gateway(database_url, HELPLINE_ATTACHMENTS_DIR=str(attachments), **GATEWAY_ENV).start()
    node.attachments_dir = attachments  # type: ignore[attr-defined]
    yield node
    node.stop()


@pytest.fixture
async def http(gateway: Gateway):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def person(name: str, plan: str = "free", role: str = "customer") -> tuple[str, str]:
    """A fresh user id and a token for it."""
    sub = f"{name}-{uuid.uuid4().hex[:8]}"
    return sub, token(sub, plan, role, name.title())


ADMIN = token("admin-ada", role="admin", name="Ada Admin")
AGENT = token("agent-alice", role="agent", name="Alice Agent")
