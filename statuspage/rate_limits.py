"""Rate limits of the status page's public writes (`POST /api/subscriptions`): token buckets per key, in memory.

Each subscription request sends a confirmation e-mail or webhook to a target someone typed in, so without a limit
anyone could make the page mail a stranger over and over. Two budgets: per client address (one sender, many
targets) and per target (many senders, one victim). A refusal says when to try again (Retry-After, whole seconds).

The buckets are the gateway's own (support/core/token_buckets.py). One process serves the status page, so the
budgets live in memory; a restart refills them.
"""

from __future__ import annotations

import time
from typing import Callable

from support.core.token_buckets import MemoryTokenBuckets, Verdict

HOUR_S = 3600.0


class HourlyBudgets:
    """At most `per_hour` takes per key in a burst, refilled evenly over the hour; the least recently used keys
    are forgotten past `capacity` (a forgotten key starts full again, which only errs on the generous side)."""

    def __init__(self, per_hour: int, capacity: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = MemoryTokenBuckets(per_hour / HOUR_S, float(per_hour), capacity, clock)

    def take(self, key: str) -> float:
        """0 when taken; else the seconds until one is available again (nothing is taken then)."""
        return self._buckets.take_now(key).retry_after_s


def retry_after(wait_s: float) -> str:
    """The Retry-After header's whole seconds: never 0, which would invite an immediate retry."""
    return Verdict(False, wait_s).retry_after_header


__all__ = ["HourlyBudgets", "retry_after"]
