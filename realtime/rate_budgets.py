"""The rate budgets of one deployment: HTTP writes per signed-in user and per client address, connections per address.

On the Redis bus every node spends from the same buckets; on the embedded default they live in this process. Writes
are checked by the API's `endpoint` wrapper (support/web/http.py), connections by Connection.run. The client address is
the peer's, or the one a trusted proxy forwarded (uvicorn's proxy headers, settings.forwarded_allow_ips).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from realtime.limits import MemoryTokenBuckets, TokenBuckets, Verdict
from support.core.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from realtime.bus.redis.wire import CommandPipe


class RateBudgets:
    def __init__(self, settings: Settings) -> None:
        self._redis: Redis | None = None
        self._pipe: CommandPipe | None = None
        budgets = {
            "http-write": (settings.http_write_rate_per_s, settings.http_write_burst),
            "anonymous-write": (settings.anonymous_write_rate_per_s, settings.anonymous_write_burst),
            "connection": (settings.connection_rate_per_s, settings.connection_burst),
        }
        opened: dict[str, TokenBuckets] = {}
        if settings.redis_url:
            from realtime.bus.redis.limits import RedisTokenBuckets, limits_connections, limits_pipe

            connections = limits_connections(settings.redis_url, settings.key_prefix)
            self._redis = connections.redis
            self._pipe = limits_pipe(connections, settings.key_prefix)
            for name, (rate, burst) in budgets.items():
                opened[name] = RedisTokenBuckets(self._redis, settings.key_prefix, name, rate, burst, self._pipe)
        else:
            for name, (rate, burst) in budgets.items():
                opened[name] = MemoryTokenBuckets(rate, burst)
        self.writes_by_user = opened["http-write"]
        self.writes_by_address = opened["anonymous-write"]
        self.connections_by_address = opened["connection"]

    async def take_write(self, user_id: str | None, address: str) -> Verdict:
        """A signed-in user spends from their own budget wherever they write from; anyone else from their address's."""
        if user_id is not None:
            return await self.writes_by_user.take(user_id)
        return await self.writes_by_address.take(address)

    async def take_connection(self, address: str) -> Verdict:
        """Opening a WebSocket: bounds reconnect storms and handshake floods from one address, across every node."""
        return await self.connections_by_address.take(address)

    async def close(self) -> None:
        for buckets in (self.writes_by_user, self.writes_by_address, self.connections_by_address):
            await buckets.close()
        if self._pipe is not None:
            await self._pipe.close()
        if self._redis is not None:
            await self._redis.aclose()
