"""Fixtures of the help-content tests: one real gateway per database engine (SQLite, PostgreSQL) for the package,
with its own copy of the articles folder (the reload test edits it) and its own attachments folder."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import pytest

from support.help.article_files import DEFAULT_DIR
from support.core.tokens import issue_token
from tests.services import SECRET, Gateway, auth, migrated_database  # noqa: F401 - auth is imported from here

MAX_ATTACHMENT = 64 * 1024
PHONE = "+44 20 7946 0000"
HOURS = "Mon-Fri 08:00-18:00 UTC"


class HelpGateway(Gateway):
    articles_dir: Path
    attachments_dir: Path


@pytest.fixture(scope="package", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from migrated_database(request.param, tmp_path_factory)


@pytest.fixture(scope="package")
def gateway(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HelpGateway]:
    root = tmp_path_factory.mktemp("help")
    articles, attachments = root / "articles", root / "attachments"
    shutil.copytree(DEFAULT_DIR, articles)
    node = HelpGateway(
        database_url,
        HELPLINE_ARTICLES_DIR=str(articles),
        HELPLINE_ARTICLES_POLL_S="0.3",
        HELPLINE_ATTACHMENTS_DIR=str(attachments),
        HELPLINE_ATTACHMENT_MAX_BYTES=str(MAX_ATTACHMENT),
        HELPLINE_SUPPORT_PHONE=PHONE,
        HELPLINE_SUPPORT_PHONE_HOURS=HOURS,
    )
    node.articles_dir, node.attachments_dir = articles, attachments
    node.start()
    yield node
    node.stop()


@pytest.fixture
async def http(gateway: HelpGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        yield client


def person(name: str, plan: str = "free", role: str = "customer") -> str:
    """A token for a new user of this name (unique id, so tests never see each other's data)."""
    return issue_token(SECRET, f"{name}-{uuid.uuid4().hex[:8]}", name.title(), plan, role)
