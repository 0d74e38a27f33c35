"""Rate limits of the status page's public writes (`POST /api/subscriptions`): token buckets per key, in memory.

Each subscription request sends a confirmation e-mail or webhook to a target someone typed in, so without a limit
anyone could make the page mail a stranger over and over. Two budgets: per client address (one sender, many
targets) and per target (many senders, one victim). A refusal says when to try again (Retry-After, whole seconds).

Its own small copy of the gateway's token bucket (realtime/limits.py): the status page imports none of the gateway's
modules (the import-linter contracts in pyproject.toml), so that it keeps running while the gateway is down. One
process serves the status page, so the budgets live in memory; a restart refills them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Callable

HOUR_S = 3600.0


class HourlyBudgets:
    """At most `per_hour` takes per key in a burst, refilled evenly over the hour; the least recently used keys
    are forgotten past `capacity` (a forgotten key starts full again, which only errs on the generous side)."""

    def __init__(self, per_hour: int, capacity: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(per_hour)
        self.rate = per_hour / HOUR_S  # tokens per second
        self.capacity = capacity
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)

    def take(self, key: str) -> float:
        """0 when taken; else the seconds until one is available again (nothing is taken then)."""
        now = self.clock()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait_s: float) -> str:
    """The Retry-After header's whole seconds: never 0, which would invite an immediate retry."""
    return str(max(1, math.ceil(wait_s)))


__all__ = ["HourlyBudgets", "retry_after"]
