"""The bus: the one commit point of messages, and the fan-out of everything live across gateway nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support.core.bus import Bus

if TYPE_CHECKING:
    from support.core.stores import MessageStore
    from support.core.settings import Settings


def open_bus(settings: "Settings", store: "MessageStore") -> Bus:
    """Pick the backend from the URL: Redis (one server, or the primary Sentinel names) when HELPLINE_REDIS_URL is
    set, else in-memory (one process). An unknown scheme raises ValueError rather than running on memory."""
    if settings.redis_url:
        from realtime.bus.redis.bus import RedisBus

        return RedisBus(settings.redis_url, store, prefix=settings.key_prefix, presence_ttl_s=settings.presence_ttl_s,
                        min_replicas=settings.redis_min_replicas, wait_timeout_ms=settings.redis_wait_timeout_ms)
    from realtime.bus.memory import MemoryBus

    return MemoryBus(store)
