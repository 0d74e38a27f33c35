"""The bus: the one commit point of messages, and the fan-out of everything live across gateway nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support.core.bus import Bus

if TYPE_CHECKING:
    from support.core.stores import MessageStore
    from support.core.settings import Settings


def open_bus(settings: "Settings", store: "MessageStore") -> Bus:
    """Pick the backend from the URL: Redis when HELPLINE_REDIS_URL is set, else in-memory (one process)."""
    if settings.redis_url and settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        from realtime.bus.redis.bus import RedisBus

        return RedisBus(settings.redis_url, store, prefix=settings.key_prefix, presence_ttl_s=settings.presence_ttl_s)
    from realtime.bus.memory import MemoryBus

    return MemoryBus(store)
