"""Migration 0007 on both engines: what it builds for accent-free, stemmed search, and that it goes down to the
previous index and back up. (tests/integration/test_migrations.py checks every revision's tables and columns.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.migrate import alembic_config
from tests.services import postgres_database, sqlite_url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def query(url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(sql))).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def fts_definition(url: str) -> str:
    return str(query(url, "SELECT sql FROM sqlite_master WHERE name = 'help_articles_fts'")[0][0])


def test_0007_folds_diacritics_and_stems_and_comes_down_again(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0007")
    if empty_database.startswith("sqlite"):
        assert "remove_diacritics 2" in fts_definition(empty_database)
        command.downgrade(config, "0006")
        assert "remove_diacritics" not in fts_definition(empty_database)
        command.upgrade(config, "0007")
        assert "remove_diacritics 2" in fts_definition(empty_database)
        return
    assert query(empty_database, "SELECT extname FROM pg_extension WHERE extname = 'unaccent'") == [("unaccent",)]
    folded = query(empty_database, "SELECT to_tsvector('helpline_simple', 'Quên mật khẩu đăng nhập')::text")
    assert folded == [("'dang':4 'khau':3 'mat':2 'nhap':5 'quen':1",)]
    stemmed = query(empty_database, "SELECT to_tsvector('helpline_en', 'Refunds été alerts')::text")
    assert stemmed == [("'alert':3 'ete':2 'refund':1",)]
    # The generated column indexes a row through both configurations (the insert is rolled back with the connection).
    rows = query(
        empty_database,
        "WITH i AS (INSERT INTO help_articles (slug, title, category, tags, body, digest, updated_at) VALUES "
        "('x', 'Hoàn tiền', 'billing', 'refunds', 'Đổi mật khẩu', 'd', now()) RETURNING search) "
        "SELECT search @@ to_tsquery('helpline_simple', 'hoan & tien & doi') FROM i",
    )
    assert rows == [(True,)]
    command.downgrade(config, "0006")
    assert query(empty_database, "SELECT cfgname FROM pg_ts_config WHERE cfgname LIKE 'helpline_%'") == []
    assert query(empty_database, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'search'") == [
        (1,)
    ]
    command.upgrade(config, "0007")
