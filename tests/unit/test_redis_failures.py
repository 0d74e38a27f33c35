"""A Redis failure reaches the caller of the Redis bus as Unavailable (an `unavailable` answer), whatever redis-py
raised: a cluster slot without a primary (SlotNotCoveredError) is not a RedisError, and once became an HTTP 500."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import SlotNotCoveredError

from realtime.bus.redis.failures import redis_errors
from support.core.errors import Unavailable


@pytest.mark.parametrize(
    "failure",
    [
        SlotNotCoveredError("Slot 42 is not covered by the cluster."),
        RedisConnectionError("Connection refused"),
        ConnectionResetError(),
        asyncio.TimeoutError(),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_every_redis_failure_becomes_unavailable(failure: Exception) -> None:
    with pytest.raises(Unavailable, match="reading the queue failed: Redis is unreachable"):
        async with redis_errors("reading the queue"):
            raise failure


async def test_a_programming_error_is_not_hidden_as_unavailable() -> None:
    with pytest.raises(KeyError):
        async with redis_errors("reading the queue"):
            raise KeyError("ticket")
