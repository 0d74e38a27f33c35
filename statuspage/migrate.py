"""Brings the status page's store up to date with its own Alembic migrations (statuspage/migrations), at start-up.

The status page migrates itself, so it comes up with no gateway, no `helpline migrate` and no gateway database.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

TABLE_PREFIX = "status_"
VERSION_TABLE = "status_alembic_version"  # never the gateway's alembic_version, even in a shared database
BASELINE = "s0001"  # the schema `create_all` made before there were migrations
_LOCK_KEY = 0x5374617475  # PostgreSQL advisory lock: two status nodes starting at once migrate one after the other


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("statuspage") / "migrations"))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic's include_name hook: only the status page's own tables, the gateway's may share the database."""
    return type_ != "table" or name is None or name.startswith(TABLE_PREFIX)


def upgrade_on(connection: Connection) -> None:
    """Migrate to head inside the caller's transaction; a store made by `create_all` is adopted, its rows kept."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if f"{TABLE_PREFIX}components" in tables and VERSION_TABLE not in tables:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")
