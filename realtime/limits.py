"""Rate limits: token buckets for frames and requests, and counters of open connections per user and per IP.

Pure bookkeeping over a monotonic clock; the gateway decides what a refusal looks like. The buckets themselves are in
support/core/token_buckets.py (the status page uses them too); `TokenBuckets` is the interface a budget shared by
every node implements too (realtime/bus/redis/limits.py).
"""

from __future__ import annotations

from typing import Protocol

from support.core.token_buckets import BucketsByKey, MemoryTokenBuckets, TokenBucket, Verdict

__all__ = [
    "BucketsByKey",
    "ConnectionCounter",
    "ConnectionLimits",
    "MemoryTokenBuckets",
    "TokenBucket",
    "TokenBuckets",
    "Verdict",
]


class TokenBuckets(Protocol):
    """One budget (a rate and a burst) kept per key: a user id, a client address.

    `take` spends `cost` tokens from the key's bucket when it holds them. A key never seen has a full bucket, and a
    bucket left alone long enough to refill may be forgotten: both mean the same, so storage stays bounded."""

    async def take(self, key: str, cost: float = 1.0) -> Verdict: ...

    async def close(self) -> None: ...


class ConnectionCounter:
    """Open connections per key, with a ceiling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        count = self._open.get(key, 0)
        if count >= self.limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._open.get(key, 0) - 1
        if count <= 0:
            self._open.pop(key, None)
        else:
            self._open[key] = count


class ConnectionLimits:
    """The open connections a node allows per user and per IP (settings.max_connections_per_*)."""

    def __init__(self, per_user: int, per_ip: int) -> None:
        self.per_user = ConnectionCounter(per_user)
        self.per_ip = ConnectionCounter(per_ip)
