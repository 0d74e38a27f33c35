"""Fixtures of the scale-out suite: the bus suite's SQLite store and Redis prefix, plus real processes."""

from __future__ import annotations

from tests.bus.conftest import redis_prefix, store  # noqa: F401 - fixtures shared with the bus suite
