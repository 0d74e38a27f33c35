"""Migration 0005 creates the outbox, webhook, delivery and audit tables as the models declare them, and takes
them away again, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from persistence import models_integrations
from persistence.migrate import alembic_config
from tests.services import postgres_database, sqlite_url

TABLES = {"outbox_events", "webhook_endpoints", "webhook_deliveries", "audit_log"}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def columns(url: str) -> dict[str, set[str]]:
    async def read() -> dict[str, set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                def look(sync_conn) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
                    found = inspect(sync_conn)
                    return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}
                return await conn.run_sync(look)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def test_integration_tables_come_and_go_with_revision_0005(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0005")
    found = columns(empty_database)
    for name in TABLES:
        model = models_integrations.Base.metadata.tables[name]
        assert found[name] == {c.name for c in model.columns}, name
    command.downgrade(config, "0004")
    assert not TABLES & set(columns(empty_database))
    command.upgrade(config, "head")
    assert TABLES <= set(columns(empty_database))
