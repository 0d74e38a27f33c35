"""The bus: the one commit point of messages, and the fan-out of everything live across gateway nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from support.core.bus import Bus
from support.core.settings import BUS_SCHEMES as SCHEMES

if TYPE_CHECKING:
    from support.core.stores import MessageStore
    from support.core.settings import Settings


def open_bus(settings: "Settings", store: "MessageStore") -> Bus:
    """Pick the backend from the URL: Redis (one server, the primary Sentinel names, or a Cluster) when HELPLINE_REDIS_URL is
    set, else in-memory (one process).

    A URL of a scheme no backend serves is an error, never the in-memory bus: N such nodes would each be an island
    while /readyz said ready."""
    if settings.redis_url:
        scheme = settings.redis_url.split("://", 1)[0].lower()
        if scheme not in SCHEMES:
            raise ValueError(f"no bus backend for {scheme}:// (known: {', '.join(s + '://' for s in SCHEMES)})")
        from realtime.bus.redis.bus import RedisBus

        return RedisBus(
            settings.redis_url,
            store,
            prefix=settings.key_prefix,
            presence_ttl_s=settings.presence_ttl_s,
            min_replicas=settings.redis_min_replicas,
            wait_timeout_ms=settings.redis_wait_timeout_ms,
        )
    from realtime.bus.memory import MemoryBus

    return MemoryBus(store, group_window_s=settings.group_window_ms / 1000)
