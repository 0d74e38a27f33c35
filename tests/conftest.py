"""Fixtures shared by every suite: a fresh migrated database per module, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.services import migrated_database


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from migrated_database(request.param, tmp_path_factory)
