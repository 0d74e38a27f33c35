"""The figures a workload reports from raw samples: percentiles up to the maximum, and the tail-latency rule.

Pure functions of plain values (no processes, no I/O), so that what "passed" means is tested on its own.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

P99_LIMIT_MS = 25.0  # a fan-out step passes (for throughput) when its p99 is at most this
MAX_LIMIT_MS = 100.0  # the tail goal: no message slower than this at any step up to TAIL_SHARE of the top rate
TAIL_SHARE = 0.8


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list; an empty list (nothing completed) is infinitely late."""
    if not sorted_values:
        return float("inf")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k]


def latency_summary(sorted_ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / p99.9 and the maximum: the maximum is what a stall looks like, the p99 of 4 s hides it."""
    return {"p50_ms": percentile(sorted_ms, 0.50), "p95_ms": percentile(sorted_ms, 0.95),
            "p99_ms": percentile(sorted_ms, 0.99), "p999_ms": percentile(sorted_ms, 0.999),
            "max_ms": sorted_ms[-1] if sorted_ms else float("inf")}


def tail_goal(steps: Iterable[dict[str, Any]], top_rate: float) -> dict[str, Any]:
    """The tail rule of issue 18: every step offered at most TAIL_SHARE × the top passing rate (the after-join step
    included) has p99 ≤ P99_LIMIT_MS and max ≤ MAX_LIMIT_MS. Returns the steps judged and the first that broke it."""
    judged = [s for s in steps if top_rate and s["offered"] <= TAIL_SHARE * top_rate]
    broken = [s for s in judged if not (s["p99_ms"] <= P99_LIMIT_MS and s["max_ms"] <= MAX_LIMIT_MS)]
    worst_max = max((s["max_ms"] for s in judged), default=None)
    worst_p99 = max((s["p99_ms"] for s in judged), default=None)
    return {"up_to_offered": TAIL_SHARE * top_rate, "steps_judged": len(judged), "met": bool(judged) and not broken,
            "worst_p99_ms": worst_p99, "worst_max_ms": worst_max,
            "first_broken": (f"{broken[0].get('label') or broken[0]['offered']}: p99 {broken[0]['p99_ms']:.1f} ms, "
                             f"max {broken[0]['max_ms']:.1f} ms") if broken else ""}


def growth_pct(first: float, last: float) -> float:
    return 100.0 * (last - first) / first if first else math.inf


def slope_per_min(times_s: list[float], values: list[float]) -> float:
    """Least-squares slope of values over time, per minute: a flat series is ~0 whatever its level."""
    n = len(times_s)
    if n < 2:
        return 0.0
    mt, mv = sum(times_s) / n, sum(values) / n
    var = sum((t - mt) ** 2 for t in times_s)
    if not var:
        return 0.0
    return 60.0 * sum((t - mt) * (v - mv) for t, v in zip(times_s, values)) / var
