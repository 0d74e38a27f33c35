"""How a Redis or network failure reaches a caller of the Redis bus: as Unavailable, never as an ack."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from redis.exceptions import RedisClusterException, RedisError

from realtime.bus.redis.wire import ReplyError
from support.core.errors import Unavailable


# redis-py's cluster client raises RedisClusterException (e.g. SlotNotCoveredError while a fresh or failing-over
# cluster has a slot without a primary), which is not a RedisError: without it here that became an HTTP 500.
REDIS_FAILURES = (RedisError, RedisClusterException, OSError, asyncio.TimeoutError)


@contextlib.asynccontextmanager
async def redis_errors(what: str) -> AsyncIterator[None]:
    """Redis or network failures become Unavailable: the caller answers `unavailable`, never acks."""
    try:
        yield
    except REDIS_FAILURES as exc:
        raise Unavailable(f"{what} failed: Redis is unreachable ({exc.__class__.__name__})") from None


@contextlib.asynccontextmanager
async def reply_errors(what: str) -> AsyncIterator[None]:
    """An error reply on the pipelined connection (the command did not run) becomes Unavailable, as above."""
    try:
        yield
    except ReplyError as exc:
        raise Unavailable(f"{what} failed: Redis answered {exc}") from None
