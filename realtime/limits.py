"""Rate limits: token buckets for frames and requests, and counters of open connections per user and per IP.

Pure bookkeeping over a monotonic clock; the gateway decides what a refusal looks like. `TokenBuckets` is the
interface a budget shared by every node implements too (realtime/bus/redis/limits.py).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Protocol


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # the most tokens held
    tokens: float = -1.0
    stamp: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst
        self.stamp = self.clock()

    def take(self, cost: float = 1.0) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class BucketsByKey:
    """One bucket per key (a user id, an IP), the least recently used forgotten past `capacity`."""

    def __init__(
        self, rate: float, burst: float, capacity: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.capacity, self.clock = rate, burst, capacity, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, cost: float = 1.0) -> bool:
        return self.bucket(key).take(cost)

    def bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, clock=self.clock)
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket


class Verdict(NamedTuple):
    allowed: bool
    retry_after_s: float  # when a refused caller may try again (0 when allowed)

    @property
    def retry_after_header(self) -> str:
        """Retry-After takes whole seconds; rounding down would invite a retry that is refused again."""
        return str(max(1, math.ceil(self.retry_after_s)))


class TokenBuckets(Protocol):
    """One budget (a rate and a burst) kept per key: a user id, a client address.

    `take` spends `cost` tokens from the key's bucket when it holds them. A key never seen has a full bucket, and a
    bucket left alone long enough to refill may be forgotten: both mean the same, so storage stays bounded."""

    async def take(self, key: str, cost: float = 1.0) -> Verdict: ...

    async def close(self) -> None: ...


class MemoryTokenBuckets:
    """TokenBuckets for one process (the embedded default): exact, but each node keeps its own."""

    def __init__(
        self, rate: float, burst: float, capacity: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst = rate, burst
        self._buckets = BucketsByKey(rate, burst, capacity, clock)

    async def take(self, key: str, cost: float = 1.0) -> Verdict:
        return self.take_now(key, cost)

    def take_now(self, key: str, cost: float = 1.0) -> Verdict:
        bucket = self._buckets.bucket(key)
        if bucket.take(cost):
            return Verdict(True, 0.0)
        return Verdict(False, (cost - bucket.tokens) / self.rate)

    async def close(self) -> None:
        return None


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
