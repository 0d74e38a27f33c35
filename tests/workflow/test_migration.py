"""Migration 0003 adds the workflow tables and the triage columns, and takes them away again (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.migrate import alembic_config
from tests.services import postgres_database, sqlite_url

TABLES = {"agent_states", "assignment_cursors", "canned_replies", "csat_ratings"}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def schema(url: str) -> tuple[set[str], set[str]]:
    """Table names, and the columns of tickets."""
    async def read() -> tuple[set[str], set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                def look(sync_conn) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
                    found = inspect(sync_conn)
                    return set(found.get_table_names()), {c["name"] for c in found.get_columns("tickets")}
                return await conn.run_sync(look)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def test_workflow_schema_comes_and_goes_with_revision_0003(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0003")
    tables, columns = schema(empty_database)
    assert TABLES <= tables and {"reviewed_at", "reviewed_by"} <= columns
    command.downgrade(config, "0002")
    tables, columns = schema(empty_database)
    assert not TABLES & tables and not {"reviewed_at", "reviewed_by"} & columns
    command.upgrade(config, "0003")
    assert TABLES <= schema(empty_database)[0]
