"""TokenBuckets kept in Redis, so every gateway node spends from the same budget: N nodes are not N times the limit.

One Lua script per take (realtime/bus/redis/token_bucket.lua): read, refill by the Redis server's clock, spend,
expire, atomically. Keys live under the deployment's prefix (realtime/bus/redis/layout.py Keys.rate_limit).
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from realtime.bus.redis import scripts as scripts
from realtime.bus.redis.failures import redis_failure
from realtime.bus.redis.layout import Keys
from realtime.bus.redis.sentinel import Connections
from realtime.bus.redis.wire import CommandPipe, ReplyError
from support.core.errors import Unavailable
from support.core.redis_url import parse_redis_url
from realtime.limits import MemoryTokenBuckets, Verdict

log = logging.getLogger("helpline.limits")
TAKE_TIMEOUT_S = 0.5  # as the pooled client's socket timeout: a limit check must not hold a request for long
OUTAGE_LOG_EVERY_S = 30.0
RETRY_REDIS_AFTER_S = 1.0  # after a failure, count locally this long rather than wait on a dead Redis per request


def limits_connections(url: str, prefix: str) -> Connections:
    """A small pool of its own with short timeouts: a limit check must not hold a request for long."""
    return Connections(
        parse_redis_url(url),
        max_connections=16,
        timeout=0.5,
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
        client_name=f"{prefix}:limits",
    )


def limits_client(url: str, prefix: str) -> Redis:
    return limits_connections(url, prefix).redis


def limits_pipe(connections: Connections, prefix: str) -> CommandPipe | None:
    """One pipelined connection for the takes (a reconnect storm is a take per connection: those of one loop tick
    leave in one write); None on a Redis Cluster, where the pooled client routes each bucket to its shard."""
    if connections.target.cluster:
        return None
    return CommandPipe(connections.endpoint, name=f"{prefix}:limits")


class RedisTokenBuckets:
    """One budget shared by every node on this Redis, one bucket (a hash with a TTL) per key."""

    def __init__(
        self, redis: Redis, prefix: str, budget: str, rate: float, burst: float, pipe: CommandPipe | None = None
    ) -> None:
        self.rate, self.burst = rate, burst
        self._redis = redis
        self._pipe = pipe
        self._keys = Keys(prefix)
        self._budget = budget
        # Redis unreachable: fail open, but not unlimited. Refusing every write while Redis is away would turn a
        # Redis hiccup into an outage of ticket creation for everyone, which is worse than a flood; allowing
        # everything would make a Redis outage the moment to flood. So each node falls back to its own bucket:
        # the limit holds per node (N nodes: at most N times it) until Redis answers again, and no request fails.
        self._fallback = MemoryTokenBuckets(rate, burst)
        self._outage_logged_at = -OUTAGE_LOG_EVERY_S
        self._local_until = 0.0

    async def take(self, key: str, cost: float = 1.0) -> Verdict:
        if time.monotonic() < self._local_until:
            return self._fallback.take_now(key, cost)
        keys, args = [self._keys.rate_limit(self._budget, key)], [self.rate, self.burst, cost]
        try:
            if self._pipe is None:
                allowed, wait_ms = await scripts.TOKEN_BUCKET_SCRIPT(self._redis, keys, args)
            else:
                async with asyncio.timeout(TAKE_TIMEOUT_S):
                    allowed, wait_ms = await scripts.TOKEN_BUCKET_SCRIPT.on(self._pipe, keys, args)
        # redis_failure, not RedisError alone: the cluster client's own errors (no cluster there, a slot without a
        # primary, a connection closed under it) are not RedisErrors, and escaped as a 500 on ticket creation.
        except Exception as exc:
            if not isinstance(exc, (Unavailable, ReplyError)) and not redis_failure(exc):
                raise
            self._note_outage(exc)
            return self._fallback.take_now(key, cost)
        return Verdict(bool(allowed), int(wait_ms) / 1000)

    def _note_outage(self, exc: Exception) -> None:
        now = time.monotonic()
        self._local_until = now + RETRY_REDIS_AFTER_S
        if now - self._outage_logged_at >= OUTAGE_LOG_EVERY_S:  # once per outage period, not once per request
            self._outage_logged_at = now
            log.warning(
                "rate limit %s: Redis unreachable (%s); each node counts on its own until it is back",
                self._budget,
                exc.__class__.__name__,
            )

    async def close(self) -> None:
        return None  # the client is shared by the budgets; its owner closes it
