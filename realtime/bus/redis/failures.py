"""How a Redis or network failure reaches a caller of the Redis bus: as Unavailable, never as an ack."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import AsyncIterator

from redis.exceptions import RedisClusterException, RedisError

from realtime.bus.redis.wire import ReplyError
from support.core.errors import Unavailable


# redis-py's cluster client raises RedisClusterException (e.g. SlotNotCoveredError while a fresh or failing-over
# cluster has a slot without a primary), which is not a RedisError: without it here that became an HTTP 500.
REDIS_FAILURES = (RedisError, RedisClusterException, OSError, asyncio.TimeoutError)

# Where a write on a closed connection fails: redis-py's asyncio connection, asyncio's streams and transports,
# uvloop's handles (Cython frames keep their .pyx names).
_CONNECTION_IO = tuple(
    os.path.join(*parts)
    for parts in (
        ("redis", "asyncio", "connection.py"),
        ("asyncio", "streams.py"),
        ("asyncio", "selector_events.py"),
        ("uvloop", "handles", "handle.pyx"),
        ("uvloop", "handles", "stream.pyx"),
    )
)


def torn_down(exc: BaseException) -> bool:
    """A write on a connection that was closed under the client, as redis-py's asyncio clients let it escape: not a
    ConnectionError but the event loop's own error (uvloop: RuntimeError "... the handler is closed"), or an
    AttributeError / TypeError on a writer that a concurrent disconnect cleared (redis/redis-py#4287). The cluster
    client closes every connection of a node after one connection error, so a single timeout under load did this to
    the requests beside it, and ticket creation answered 500. Told apart from a bug by where it was raised: in the
    client's connection code or the transport's."""
    if not isinstance(exc, (RuntimeError, AttributeError, TypeError)) or exc.__traceback__ is None:
        return False
    frame = exc.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_filename.endswith(_CONNECTION_IO)


def redis_failure(exc: BaseException) -> bool:
    """Redis, or the way to it, failed (so the caller answers unavailable or falls back), as opposed to a bug."""
    return isinstance(exc, REDIS_FAILURES) or torn_down(exc)


@contextlib.asynccontextmanager
async def redis_errors(what: str) -> AsyncIterator[None]:
    """Redis or network failures become Unavailable: the caller answers `unavailable`, never acks."""
    try:
        yield
    except Exception as exc:
        if not redis_failure(exc):
            raise
        raise Unavailable(f"{what} failed: Redis is unreachable ({exc.__class__.__name__})") from None


@contextlib.asynccontextmanager
async def reply_errors(what: str) -> AsyncIterator[None]:
    """An error reply on the pipelined connection (the command did not run) becomes Unavailable, as above."""
    try:
        yield
    except ReplyError as exc:
        raise Unavailable(f"{what} failed: Redis answered {exc}") from None
