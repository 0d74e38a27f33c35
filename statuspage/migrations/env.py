"""Alembic environment of the status page's store: its own tables (status_*) and its own version table, so it can
share a database with the gateway's and never touch its schema.

Runs on the connection the caller hands over in `config.attributes["connection"]` (statuspage/migrate.py), or on
an engine made from the configured URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from statuspage.migrate import VERSION_TABLE, include_name
from statuspage.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_main(context.config.get_main_option("sqlalchemy.url") or ""))
