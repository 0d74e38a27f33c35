"""The report's section for issue 17: fan-out on a 3-shard Redis Cluster next to one Redis (2 and 4 gateway nodes),
and the cluster with HELPLINE_REDIS_MIN_REPLICAS=1, all from the same run; and the issue's two goals, judged on it."""

from __future__ import annotations

from typing import Any

from bench.report_workloads import _f, _met
from bench.stats import P99_LIMIT_MS

CLUSTER_SHARE = 0.15  # "the cluster within 15 % of single Redis per gateway node"
REPLICAS_SHARE = 0.20  # "MIN_REPLICAS=1 within 20 %"
CONFIGS = (
    ("single_2", "one Redis, 2 nodes"),
    ("cluster_2", "cluster, 2 nodes"),
    ("single_4", "one Redis, 4 nodes"),
    ("cluster_4", "cluster, 4 nodes"),
    ("cluster_2_replicas1", "cluster, 2 nodes, MIN_REPLICAS=1"),
    ("cluster_2_no_replicas", "cluster without replicas, 2 nodes"),
)


def _passed(run: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The run's passing steps by offered rate."""
    return {int(s["offered"]): s for s in run.get("steps", []) if s.get("ok")}


def _per_node(run: dict[str, Any]) -> float | None:
    top, nodes = run.get("max_deliveries_per_s"), run.get("nodes")
    return top / nodes if top and nodes else None


def _capped(run: dict[str, Any]) -> bool:
    """True when the top passing step is the highest offered: the figure is a floor, not the ceiling."""
    steps = run.get("steps") or []
    best = run.get("best_step") or {}
    return bool(steps) and best.get("offered") == max(s["offered"] for s in steps)


def section(results: dict[str, Any]) -> list[str]:
    cl = results.get("cluster")
    if not cl:
        return []
    # A run from before the replica-less cluster was measured has no such row: leave it out, not "failed".
    configs = [(key, name) for key, name in CONFIGS if key in cl or key != "cluster_2_no_replicas"]
    runs = {key: cl.get(key) or {} for key, _ in configs}
    common = sorted(set.intersection(*(set(_passed(r)) for r in runs.values()))) if runs else []
    lines = [
        "",
        "### Redis Cluster (3 primaries + 3 replicas, and the 3 primaries alone) next to one Redis, same run",
        "",
        "| configuration | deliveries/s at p99 ≤ 25 ms | per gateway node | p50 / p99 / max ms at that step |"
        + "".join(f" node · Redis · total CPU ms/1k @{rate}/s |" for rate in common),
        "| --- | ---: | ---: | ---: |" + " ---: |" * len(common),
    ]
    for key, name in configs:
        r = runs[key]
        if r.get("error") or not r.get("steps"):
            why = str(r.get("error", "not run")).splitlines()[0]  # one table row
            lines.append(f"| {name} | failed: {why} | | |" + " |" * len(common))
            continue
        best, passed = r.get("best_step") or {}, _passed(r)
        cells = [
            f"{_f(passed[rate]['node_cpu_ms_per_1k'])} · {_f(passed[rate]['redis_cpu_ms_per_1k'])} · "
            f"{_f(passed[rate]['total_cpu_ms_per_1k'])}"
            for rate in common
        ]
        lines.append(
            f"| {name} | {_f(r.get('max_deliveries_per_s'))}{' (top step)' if _capped(r) else ''} | "
            f"{_f(_per_node(r))} | {_f(best.get('p50_ms'), '{:.1f}')} / {_f(best.get('p99_ms'), '{:.1f}')} / "
            f"{_f(best.get('max_ms'), '{:.1f}')} |" + "".join(f" {cell} |" for cell in cells)
        )
    lines += [
        "",
        "Node CPU is the gateway nodes' together; Redis CPU is every Redis process of the configuration (on the "
        "cluster: 3 primaries and their 3 replicas); total adds the persistence worker. Rates are those every "
        "configuration passed (p99 ≤ 25 ms); the goals compare each pair at the rates both of it passed. Each "
        'configuration\'s top rate is bisected between its top passing and lowest failing step. "(top step)" means '
        "the configuration passed the highest rate offered, so its throughput is a floor, not its ceiling.",
    ]
    lines += _without_replicas(runs)
    getkeys = [f"{name} {runs[key]['getkeys']}" for key, name in configs if "getkeys" in runs[key]]
    if getkeys:
        lines += [
            "",
            "COMMAND GETKEYS calls on the cluster's nodes during each run (a round trip redis-py's cluster client "
            "adds before a command whose keys it cannot find itself; 0 expected): " + ", ".join(getkeys) + ".",
        ]
    goals = _goals(runs)
    return [
        "",
        "### Goals of issue 17 (same run)",
        "",
        "| goal | measured | met |",
        "| --- | --- | --- |",
        *goals,
    ] + lines


def _without_replicas(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Not a goal: the cluster's shards alone beside one Redis (neither has a replica), to tell what the cluster
    costs on these two cores from what its replicas cost."""
    alone, single, full = runs.get("cluster_2_no_replicas"), runs["single_2"], runs["cluster_2"]
    a, b, c = _per_node(single), _per_node(alone or {}), _per_node(full)
    if not (a and b and c):
        return []
    cpu = _ratios(single, alone or {}, sorted(set(_passed(single)) & set(_passed(alone or {}))))
    return [
        "",
        f"The cluster's 3 primaries without their replicas, 2 nodes (not a goal; one Redis has no replica either): "
        f"{b:.0f} deliveries/s per gateway node against one Redis's {a:.0f} = {b / a:.2f}× (with the replicas "
        f"{c / a:.2f}×); node CPU per 1,000 deliveries "
        + (", ".join(f"{v:.2f}× @{rate}/s" for rate, v in cpu.items()) or "—")
        + ".",
    ]


def _ratios(a: dict[str, Any], b: dict[str, Any], rates: list[int]) -> dict[int, float]:
    """Node CPU per 1,000 deliveries of b ÷ of a, at each rate."""
    pa, pb = _passed(a), _passed(b)
    return {
        rate: pb[rate]["node_cpu_ms_per_1k"] / pa[rate]["node_cpu_ms_per_1k"]
        for rate in rates
        if pa[rate].get("node_cpu_ms_per_1k")
    }


def _goal_rows(what: str, base: dict[str, Any], other: dict[str, Any], share: float) -> list[str]:
    """Two rows for one comparison: throughput per gateway node, and node CPU per 1,000 deliveries at every rate
    both of the pair passed (met only if the worst rate is within the share). Rates of the pair, not of every
    configuration: one configuration that stalls early must not empty the other comparisons."""
    rows = []
    common = sorted(set(_passed(base)) & set(_passed(other)))
    a, b = _per_node(base), _per_node(other)
    ratio = b / a if a and b else None
    floor = " (both at the top step offered: a floor)" if _capped(base) and _capped(other) else ""
    rows.append(
        f"| {what}: deliveries/s per gateway node at p99 ≤ {P99_LIMIT_MS:g} ms ≥ {1 - share:.0%} | "
        f"{_f(b)} vs {_f(a)} = {_f(ratio, '{:.2f}×')}{floor} | {_met(None if ratio is None else ratio >= 1 - share)} |"
    )
    cpu = _ratios(base, other, common)
    worst = max(cpu.values()) if cpu else None
    rows.append(
        f"| {what}: node CPU per 1,000 deliveries ≤ {1 + share:.2f}× | "
        + (", ".join(f"{v:.2f}× @{rate}/s" for rate, v in cpu.items()) or "—")
        + f" | {_met(None if worst is None else worst <= 1 + share)} |"
    )
    return rows


def _goals(runs: dict[str, dict[str, Any]]) -> list[str]:
    rows: list[str] = []
    for nodes in (2, 4):
        rows += _goal_rows(
            f"cluster ÷ one Redis, {nodes} nodes",
            runs[f"single_{nodes}"],
            runs[f"cluster_{nodes}"],
            CLUSTER_SHARE,
        )
    rows += _goal_rows(
        "cluster with MIN_REPLICAS=1 ÷ the same cluster without (0), 2 nodes",
        runs["cluster_2"],
        runs["cluster_2_replicas1"],
        REPLICAS_SHARE,
    )
    return rows
