"""Migration 0004 on both engines: up, down to 0003 (its tables and search structures gone), and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from persistence.migrate import alembic_config
from tests.services import migrate, postgres_database, sqlite_url

TABLES = {"help_articles", "article_events", "attachments", "callbacks"}


def tables(url: str) -> set[str]:
    if "+asyncpg" in url:
        return _pg_tables(url)
    engine = create_engine(url.replace("+aiosqlite", ""))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _pg_tables(url: str) -> set[str]:
    import asyncio

    import asyncpg

    async def run() -> set[str]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {r["tablename"] for r in rows}
        finally:
            await conn.close()

    return asyncio.run(run())


def round_trip(url: str, search_table: str | None) -> None:
    migrate(url)
    assert TABLES <= tables(url)
    if search_table:
        assert search_table in tables(url)
    command.downgrade(alembic_config(url), "0003")
    left = tables(url)
    assert not TABLES & left and (search_table is None or search_table not in left)
    migrate(url)
    assert TABLES <= tables(url)


def test_migration_round_trip_on_sqlite(tmp_path: Path) -> None:
    round_trip(sqlite_url(tmp_path), "help_articles_fts")


@pytest.mark.postgres
def test_migration_round_trip_on_postgresql() -> None:
    for url in postgres_database():
        round_trip(url, None)
