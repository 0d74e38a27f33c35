"""How a Redis or network failure reaches a caller of the Redis bus: as Unavailable, never as an ack."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from redis.exceptions import RedisError

from support.core.errors import Unavailable


@contextlib.asynccontextmanager
async def redis_errors(what: str) -> AsyncIterator[None]:
    """Redis or network failures become Unavailable: the caller answers `unavailable`, never acks."""
    try:
        yield
    except (RedisError, OSError, asyncio.TimeoutError) as exc:
        raise Unavailable(f"{what} failed: Redis is unreachable ({exc.__class__.__name__})") from None
