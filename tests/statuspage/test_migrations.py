"""The status store's own migrations: up, down and up again, a schema that is what its models say, a store made by
`create_all` adopted with its rows, and a database shared with the gateway's — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Callable, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from statuspage.config import ComponentSpec
from statuspage.migrate import VERSION_TABLE, alembic_config, include_name
from statuspage.store import StatusStore
from statuspage.tables import Base

T = TypeVar("T")
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=timezone.utc)
SPECS = (ComponentSpec("charts", "Charts", "", 1, None),)
STATUS_TABLES = {
    "status_components",
    "status_component_events",
    "status_incidents",
    "status_incident_updates",
    "status_audit",
    "status_subscribers",
    "status_deliveries",
}
BASELINE_TABLES = [
    Base.metadata.tables[name]
    for name in sorted(STATUS_TABLES - {"status_audit", "status_subscribers", "status_deliveries"})
]
HEAD = "s0004"


async def with_alembic(url: str, action: Callable[[Config], T]) -> T:
    """Run an Alembic command on a connection of this database, as the store's own start-up does."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn) -> T:  # type: ignore[no-untyped-def]
                config = alembic_config()
                config.attributes["connection"] = sync_conn
                return action(config)

            return await conn.run_sync(run)
    finally:
        await engine.dispose()


async def tables(url: str) -> set[str]:
    return await with_alembic(url, lambda config: set(inspect(config.attributes["connection"]).get_table_names()))


async def store_differences(url: str) -> list[object]:
    """What autogenerate would write, with the hooks of statuspage/migrations/env.py: empty when they agree."""

    def compare(config: Config) -> list[object]:
        context = MigrationContext.configure(
            config.attributes["connection"], opts={"include_name": include_name, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, Base.metadata))

    return await with_alembic(url, compare)


async def test_store_migrates_up_down_and_up_again_to_what_its_models_say(store_url: str) -> None:
    store = StatusStore(store_url)
    try:
        await store.migrate()
        assert STATUS_TABLES | {VERSION_TABLE} <= await tables(store_url)
        assert await store_differences(store_url) == []
        await with_alembic(store_url, command.check)  # `alembic check` through the store's own environment
        await asyncio.to_thread(command.check, alembic_config(store_url))  # and by URL, as an operator runs it
        await with_alembic(store_url, lambda config: command.downgrade(config, "base"))
        assert not STATUS_TABLES & await tables(store_url)
        await store.migrate()
        await store.sync_components(SPECS, T0)
        assert [c.id for c in await store.components()] == ["charts"]
    finally:
        await store.close()


async def test_a_store_made_by_create_all_is_adopted_with_its_rows(store_url: str) -> None:
    """Stores from before the migrations: stamped at the baseline, nothing rebuilt, nothing lost."""
    store = StatusStore(store_url)
    try:
        async with store.engine.begin() as conn:
            # The tables create_all made then: s0001's, not the ones later revisions add.
            await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=BASELINE_TABLES))
        await store.sync_components(SPECS, T0)
        assert await store.set_component_status("charts", "major_outage", T0)
        await store.migrate()
        assert [(c.id, c.status) for c in await store.components()] == [("charts", "major_outage")]
        heads = await with_alembic(
            store_url,
            lambda config: MigrationContext.configure(
                config.attributes["connection"], opts={"version_table": VERSION_TABLE}
            ).get_current_heads(),
        )
        assert heads == (HEAD,)
        assert {"status_audit", "status_subscribers"} <= set(await table_names(store))
    finally:
        await store.close()


async def table_names(store: StatusStore) -> list[str]:
    async with store.engine.connect() as conn:
        return await conn.run_sync(lambda c: inspect(c).get_table_names())


async def test_status_store_and_gateway_share_one_database_without_touching_each_other(postgres_url: str) -> None:
    from persistence.migrate import alembic_config as gateway_config

    await asyncio.to_thread(command.upgrade, gateway_config(postgres_url), "head")
    store = StatusStore(postgres_url)
    try:
        await store.migrate()
        assert await store_differences(postgres_url) == []
        await asyncio.to_thread(command.check, gateway_config(postgres_url))  # the status_* tables are not its own
        await with_alembic(postgres_url, lambda config: command.downgrade(config, "base"))
        left = await tables(postgres_url)
        assert not STATUS_TABLES & left and {"alembic_version", "tickets", "messages"} <= left
    finally:
        await store.close()


async def test_two_status_nodes_starting_at_once_both_come_up(postgres_url: str) -> None:
    stores = [StatusStore(postgres_url), StatusStore(postgres_url)]
    try:
        # Without the advisory lock the second CREATE TABLE waits on the first's transaction and then fails.
        await asyncio.wait_for(asyncio.gather(*(s.migrate() for s in stores)), 60)
        assert await store_differences(postgres_url) == []
    finally:
        for s in stores:
            await s.close()
