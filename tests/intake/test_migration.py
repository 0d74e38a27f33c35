"""Migration 0002 creates the ticket ↔ incident links and takes them away again, on SQLite and PostgreSQL."""

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


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    async def read() -> tuple[set[str], set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                def look(sync_conn) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
                    found = inspect(sync_conn)
                    tables = set(found.get_table_names())
                    indexes = {i["name"] for i in found.get_indexes("ticket_incidents")} \
                        if "ticket_incidents" in tables else set()
                    return tables, indexes
                return await conn.run_sync(look)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def test_links_table_comes_and_goes_with_revision_0002(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    tables, indexes = tables_and_indexes(empty_database)
    assert "ticket_incidents" in tables
    assert {"ix_ticket_incidents_incident", "ix_ticket_incidents_pending"} <= indexes
    command.downgrade(config, "0001")
    tables, _ = tables_and_indexes(empty_database)
    assert "ticket_incidents" not in tables and "tickets" in tables
    command.upgrade(config, "head")
    assert "ticket_incidents" in tables_and_indexes(empty_database)[0]
