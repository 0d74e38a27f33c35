"""How far the persistence worker is behind the Redis persistence stream: messages and seconds.

Read by the gateways' bus (exported on their /metrics) and by the worker (its /metrics and its log). Reads only.
"""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from realtime.bus.redis.layout import Entry

PERSIST_GROUP = "persisters"  # the worker's consumer group on the persistence stream


def entry_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


async def persist_lag(redis: Redis, stream: str) -> tuple[int, float]:
    """(committed messages not yet acknowledged by a worker, age in seconds of the oldest of them)."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:  # no stream yet: nothing was ever committed, or Redis lost it
        return 0, 0.0
    group = next((g for g in groups if g.get("name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
    if group is None:  # no worker ever ran: everything is behind
        length = int(await redis.xlen(stream))
        first = cast(list[Entry], await redis.xrange(stream, count=1))
        return length, await _age(redis, first[0][0] if first else None)
    pending = int(group.get("pending") or 0)
    lag = group.get("lag")
    undelivered = int(lag) if lag is not None else len(cast(list[Entry], await redis.xrange(
        stream, min=b"(" + _as_bytes(group["last-delivered-id"]), count=100_000)))
    oldest: bytes | None = None
    if pending:
        oldest = (await redis.xpending(stream, PERSIST_GROUP))["min"]
    elif undelivered:
        after = cast(list[Entry], await redis.xrange(
            stream, min=b"(" + _as_bytes(group["last-delivered-id"]), count=1))
        oldest = after[0][0] if after else None
    return pending + undelivered, await _age(redis, oldest)


async def _age(redis: Redis, entry_id: bytes | None) -> float:
    if entry_id is None:
        return 0.0
    seconds, micros = await redis.time()
    return max(0.0, (seconds * 1000 + micros // 1000 - entry_ms(entry_id)) / 1000)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
