"""Every migration comes and goes: a revision's tables and columns appear on upgrade and leave on downgrade, and at
head the schema is what the models say (`alembic check` finds nothing to do) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.metadata import include_name, metadata
from persistence.migrate import alembic_config
from persistence.models import Base
from tests.services import postgres_database, sqlite_url

# revision: (the tables it creates, {table: columns it adds to an existing table})
ADDS: dict[str, tuple[set[str], dict[str, set[str]]]] = {
    "0001": ({"tickets", "messages", "read_cursors"}, {}),
    "0002": ({"ticket_incidents"}, {}),
    "0003": ({"agent_states", "assignment_cursors", "canned_replies", "csat_ratings"},
             {"tickets": {"reviewed_at", "reviewed_by"}}),
    "0004": ({"help_articles", "article_events", "attachments", "callbacks"}, {}),
    "0005": ({"outbox_events", "webhook_endpoints", "webhook_deliveries", "audit_log"}, {}),
}
REVISIONS = sorted(ADDS)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from postgres_database()


def schema(url: str) -> dict[str, set[str]]:
    """Every table and its columns."""
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


def differences(url: str) -> list[object]:
    """What autogenerate would write, with the hooks persistence/migrations/env.py uses: empty when they agree."""
    async def read() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                def compare(sync_conn) -> list[object]:  # type: ignore[no-untyped-def]
                    context = MigrationContext.configure(sync_conn, opts={"include_name": include_name})
                    return list(compare_metadata(context, metadata))
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def present(found: dict[str, set[str]], revision: str) -> bool:
    tables, columns = ADDS[revision]
    return tables <= set(found) and all(cols <= found.get(t, set()) for t, cols in columns.items())


def absent(found: dict[str, set[str]], revision: str) -> bool:
    tables, columns = ADDS[revision]
    return not tables & set(found) and all(not cols & found.get(t, set()) for t, cols in columns.items())


@pytest.mark.parametrize("revision", REVISIONS)
def test_each_revision_comes_and_goes(empty_database: str, revision: str) -> None:
    config = alembic_config(empty_database)
    previous = REVISIONS[REVISIONS.index(revision) - 1] if revision != REVISIONS[0] else "base"
    command.upgrade(config, revision)
    assert present(schema(empty_database), revision)
    command.downgrade(config, previous)
    assert absent(schema(empty_database), revision)
    command.upgrade(config, revision)
    assert present(schema(empty_database), revision)


def test_head_holds_every_model_column_and_goes_back_to_nothing(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    found = schema(empty_database)
    for table in Base.metadata.sorted_tables:
        assert {c.name for c in table.columns} <= found.get(table.name, set()), table.name
    command.downgrade(config, "base")
    assert set(schema(empty_database)) <= {"alembic_version"}


def test_every_revision_is_exercised_up_and_down() -> None:
    """A new revision must say what it adds here, so the up/down/up test runs it on both engines."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert {s.revision for s in scripts.walk_revisions()} == set(ADDS)


def test_migrated_schema_is_what_the_models_say(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert differences(empty_database) == []
    command.check(config)  # `alembic check` itself, through the environment operators run
