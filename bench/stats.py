"""The figures a workload reports from raw samples: percentiles up to the maximum, and the tail-latency rule.

Pure functions of plain values (no processes, no I/O), so that what "passed" means is tested on its own.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

P99_LIMIT_MS = 25.0  # a fan-out step passes (for throughput) when its p99 is at most this
MAX_LIMIT_MS = 100.0  # the tail goal: no message slower than this at any step up to TAIL_SHARE of the top rate
TAIL_SHARE = 0.8
RSS_GROWTH_LIMIT_PCT = 5.0  # the soak's memory rule


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list; an empty list (nothing completed) is infinitely late."""
    if not sorted_values:
        return float("inf")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k]


def ms(value: float | None) -> float:
    """A latency read back from a report: JSON has no infinity, so a message that never completed is null there."""
    return math.inf if value is None else value


def latency_summary(sorted_ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / p99.9 and the maximum: the maximum is what a stall looks like, the p99 of 4 s hides it."""
    return {
        "p50_ms": percentile(sorted_ms, 0.50),
        "p95_ms": percentile(sorted_ms, 0.95),
        "p99_ms": percentile(sorted_ms, 0.99),
        "p999_ms": percentile(sorted_ms, 0.999),
        "max_ms": sorted_ms[-1] if sorted_ms else float("inf"),
    }


def tail_goal(after_join: dict[str, Any] | None, steps: Iterable[dict[str, Any]], top_rate: float) -> dict[str, Any]:
    """The tail rule of issue 18: from the first step after the join burst on (always judged, whatever its rate),
    every step offered at most TAIL_SHARE × the top passing rate has p99 ≤ P99_LIMIT_MS and max ≤ MAX_LIMIT_MS.
    Returns how many steps were judged, the worst figures and the first step that broke the rule."""
    judged = ([after_join] if after_join else []) + [s for s in steps if s["offered"] <= TAIL_SHARE * top_rate]
    broken = [s for s in judged if not (ms(s["p99_ms"]) <= P99_LIMIT_MS and ms(s["max_ms"]) <= MAX_LIMIT_MS)]
    worst_max = max((ms(s["max_ms"]) for s in judged), default=None)
    worst_p99 = max((ms(s["p99_ms"]) for s in judged), default=None)
    return {
        "up_to_offered": TAIL_SHARE * top_rate,
        "steps_judged": len(judged),
        "met": bool(judged) and not broken,
        "worst_p99_ms": worst_p99,
        "worst_max_ms": worst_max,
        "first_broken": (
            f"{broken[0].get('label') or broken[0]['offered']}: p99 {ms(broken[0]['p99_ms']):.1f} ms, "
            f"max {ms(broken[0]['max_ms']):.1f} ms"
        )
        if broken
        else "",
    }


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


def soak_rate(top: float) -> int:
    """The soak's rate, half the top passing rate, rounded like a fan-out step: to 1,000 from 10,000 up, else to 100
    (a loaded machine's top of 495/s, rounded to 1,000, once made a soak at 0/s); never under 100."""
    half = top / 2
    return max(100, int(round(half, -3 if half >= 10_000 else -2)))


SOAK_WARMUP_S = 60.0  # the soak's first minute (a fifth of a shorter soak): allocator and buffers settle in it


def soak_baseline(intervals: list[dict[str, Any]]) -> int:
    """The interval the RSS rule starts from: the first one ending after the warm-up. In the first seconds at
    full rate the allocator's arenas, the sockets' buffers and the bus's capped streams grow to their working size
    once; that is not a leak, and judged from there a short soak would fail on it (the growth from the very first
    interval is reported beside it)."""
    if len(intervals) < 3:
        return 0
    warm = min(SOAK_WARMUP_S, 0.2 * intervals[-1]["at_s"])
    return next((k for k, i in enumerate(intervals) if i["at_s"] >= warm), 0)


def soak_summary(intervals: list[dict[str, Any]], msg_rate: float) -> dict[str, Any]:
    """RSS growth from the interval after the warm-up to the last (the goal's figure), with the first interval's
    growth and a fitted slope beside it; the lag is flat when its fitted growth over the whole soak is under 100 ms
    worth of messages (or 500 entries, the worker's batching noise)."""
    if not intervals:
        return {"rss_growth_pct": [], "worker_lag_flat": None, "connections_lost": 0}
    first, last = intervals[0], intervals[-1]
    b = soak_baseline(intervals)
    base = intervals[b]
    growth = [round(growth_pct(a, z), 1) for a, z in zip(base["node_rss_mib"], last["node_rss_mib"])]
    times = [i["at_s"] for i in intervals]
    after = intervals[b:]
    rss_slope = [
        round(slope_per_min([i["at_s"] for i in after], [i["node_rss_mib"][n] for i in after]), 2)
        for n in range(len(base["node_rss_mib"]))
    ]
    lags = [float(i["worker_lag"]) for i in intervals]
    slope = slope_per_min(times, lags)
    minutes = (times[-1] - times[0]) / 60 if len(times) > 1 else 0.0
    return {
        "rss_growth_pct": growth,
        "rss_ok": all(g <= RSS_GROWTH_LIMIT_PCT for g in growth),
        "rss_baseline_at_s": base["at_s"],
        "rss_baseline_mib": base["node_rss_mib"],
        "rss_last_mib": last["node_rss_mib"],
        "rss_growth_from_first_pct": [
            round(growth_pct(a, z), 1) for a, z in zip(first["node_rss_mib"], last["node_rss_mib"])
        ],
        "rss_slope_mib_per_min": rss_slope,
        "worker_lag_first": first["worker_lag"],
        "worker_lag_last": last["worker_lag"],
        "worker_lag_max": max(i["worker_lag"] for i in intervals),
        "worker_lag_slope_per_min": slope,
        "worker_lag_flat": slope * minutes <= max(500.0, 0.1 * msg_rate),
        "connections_lost": sum(i["closed"] for i in intervals),
        "intervals_failed": sum(1 for i in intervals if not i["ok"]),
        "worst_p99_ms": max(ms(i["p99_ms"]) for i in intervals),
        "worst_max_ms": max(ms(i["max_ms"]) for i in intervals),
    }


def bisect_rate(steps: list[dict[str, Any]]) -> int | None:
    """The next rate to try: halfway from the top passing rate to the lowest failing one above it (rounded to
    100/s); None when nothing passed, nothing above failed, or the gap is already within 3 %."""
    passed = [s["offered"] for s in steps if s["ok"]]
    if not passed:
        return None
    low = max(passed)
    above = [s["offered"] for s in steps if not s["ok"] and s["offered"] > low]
    if not above:
        return None
    high = min(above)
    rate = round((low + high) / 2, -2)
    return int(rate) if high - low > max(200, 0.03 * low) and low < rate < high else None
