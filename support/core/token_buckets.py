"""Token buckets in memory: one bucket, buckets per key (a user id, an address), and the verdict a take gives.

Pure bookkeeping over a monotonic clock, shared by the gateway (realtime/limits.py, the frame and request budgets)
and the status page (statuspage/rate_limits.py, its subscription budgets), which imports none of the gateway.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, NamedTuple


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

    def __len__(self) -> int:
        return len(self._buckets)

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

    def __len__(self) -> int:
        """How many keys are held (bounded by `capacity`)."""
        return len(self._buckets)

    async def close(self) -> None:
        return None
