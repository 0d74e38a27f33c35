"""The search contract, run on the three article-search engines behind the one port: SQLite FTS5, PostgreSQL,
and the in-memory index (a SQLite gateway with HELPLINE_ARTICLES_SEARCH=memory). One real gateway per engine for
this package; the fixtures of tests/help/conftest.py otherwise."""

from __future__ import annotations

import shutil
from typing import Iterator

import pytest

from support.help.article_files import DEFAULT_DIR
from tests.help.conftest import HelpGateway
from tests.services import migrated_database


@pytest.fixture(scope="package", params=["sqlite", "postgres", "memory"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="package")
def database_url(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from migrated_database("sqlite" if engine == "memory" else engine, tmp_path_factory)


@pytest.fixture(scope="package")
def gateway(engine: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HelpGateway]:
    articles = tmp_path_factory.mktemp("search") / "articles"
    shutil.copytree(DEFAULT_DIR, articles)
    node = HelpGateway(
        database_url,
        HELPLINE_ARTICLES_DIR=str(articles),
        HELPLINE_ARTICLES_POLL_S="0.3",
        HELPLINE_ARTICLES_SEARCH="memory" if engine == "memory" else "database",
    )
    node.articles_dir = articles
    node.start()
    yield node
    node.stop()
