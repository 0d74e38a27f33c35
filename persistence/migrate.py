"""Brings a database's schema up to date with Alembic (used by `helpline migrate` and `helpline up`)."""

from __future__ import annotations

import asyncio
from importlib.resources import files

from alembic import command
from alembic.config import Config

# Alembic takes file names; a wheel installs unpacked, so the package's Traversable is a real folder.
_HERE = files("persistence")


def alembic_config(database_url: str) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Run every pending migration; the env runs its own event loop, so call this outside of one."""
    command.upgrade(alembic_config(database_url), "head")


async def upgrade_async(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
