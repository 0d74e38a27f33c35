"""Every model module in one metadata: what Alembic compares the migrations with (`alembic check`, autogenerate).

Imports each `persistence/models*.py` by discovery, so a new model module can never be left out of the comparison;
it must not import anything but models.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import persistence
from persistence.models import Base

MODEL_MODULES = tuple(
    importlib.import_module(f"persistence.{m.name}")
    for m in pkgutil.iter_modules(persistence.__path__)
    if m.name.startswith("models")
)
metadata = Base.metadata

# Names the migrations own without a model (a module lists them in MIGRATION_ONLY): "table", "table.column" or an
# index name; a trailing "*" is a prefix. The status page keeps its own tables (status_*) and version table under
# its own migrations, and may share the database.
MIGRATION_ONLY: frozenset[str] = frozenset().union(*(getattr(m, "MIGRATION_ONLY", ()) for m in MODEL_MODULES))
FOREIGN_TABLE_PREFIX = "status_"


def _owned_by_migrations(name: str) -> bool:
    return any(name.startswith(owned[:-1]) if owned.endswith("*") else name == owned for owned in MIGRATION_ONLY)


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic's include_name hook: leave out what no model describes on purpose."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FOREIGN_TABLE_PREFIX) and not _owned_by_migrations(name)
    if type_ == "column":
        return not _owned_by_migrations(f"{parent_names['table_name']}.{name}")
    return not _owned_by_migrations(name)
