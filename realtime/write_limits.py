"""The budgets of HTTP writes: per signed-in user, and per client address for every write without a valid token.

Checked once per write by the API's `endpoint` wrapper (realtime/api.py), before the handler runs. The client
address is the peer's, or the one a trusted proxy forwarded (uvicorn's proxy headers, settings.forwarded_allow_ips).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from realtime.limits import MemoryTokenBuckets, TokenBuckets, Verdict
from realtime.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteBudgets:
    """Shared by every node on the Redis bus, kept in this process on the embedded default."""

    def __init__(self, settings: Settings) -> None:
        self._redis: Redis | None = None
        self.by_user: TokenBuckets
        self.by_address: TokenBuckets
        if settings.redis_url:
            from realtime.bus.redis_limits import RedisTokenBuckets, limits_client

            self._redis = limits_client(settings.redis_url, settings.key_prefix)
            self.by_user = RedisTokenBuckets(self._redis, settings.key_prefix, "http-write",
                                             settings.http_write_rate_per_s, settings.http_write_burst)
            self.by_address = RedisTokenBuckets(self._redis, settings.key_prefix, "anonymous-write",
                                                settings.anonymous_write_rate_per_s, settings.anonymous_write_burst)
        else:
            self.by_user = MemoryTokenBuckets(settings.http_write_rate_per_s, settings.http_write_burst)
            self.by_address = MemoryTokenBuckets(settings.anonymous_write_rate_per_s,
                                                 settings.anonymous_write_burst)

    async def take(self, user_id: str | None, address: str) -> Verdict:
        """A signed-in user spends from their own budget wherever they write from; anyone else from their address's."""
        if user_id is not None:
            return await self.by_user.take(user_id)
        return await self.by_address.take(address)

    async def close(self) -> None:
        await self.by_user.close()
        await self.by_address.close()
        if self._redis is not None:
            await self._redis.aclose()
