"""Workload 1, fan-out: R rooms of K members over two nodes, offered rate stepped up until p99 > 25 ms or
delivery falls behind. Every step records deliveries/s, latency percentiles up to the maximum and CPU per process;
the first seconds of load right after the join burst are a step of their own (`after_join`), never a hidden warm-up."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.env import Proc, RedisServer
from bench.genpool import GenPool
from bench.stats import MAX_LIMIT_MS, P99_LIMIT_MS, bisect_rate, latency_summary, percentile
from bench.systems import System

__all__ = ["FanoutConfig", "run", "percentile", "P99_LIMIT_MS"]


@dataclass
class FanoutConfig:
    rooms: int = 200
    members: int = 5
    nodes: int = 2
    # Offered deliveries/s. The top is above what this machine's bare server reaches, so that no system is capped.
    steps: tuple[int, ...] = (500, 1000, 2000, 5000, 10000, 15000, 20000, 30000, 40000, 50000, 60000, 80000)
    step_s: float = 5.0
    grace_s: float = 1.0
    generators: int = 2
    retry_failed_step: bool = True
    stop_on_failure: bool = True
    # The first seconds of load after the join burst, at the first step's rate, reported as their own row.
    after_join_s: float = 2.0
    # After the steps, this many more between the top passing rate and the lowest failing one above it, each
    # halving the gap: the top rate is then found to within a few percent, not to the next step (x1.5 to x2.5).
    bisect: int = 0


def run(system: System, redis: RedisServer, cfg: FanoutConfig, log: Any = print) -> dict[str, Any]:
    redis.flush()
    deployment = system.start(cfg.nodes, redis)
    pool: GenPool | None = None
    result: dict[str, Any] = {"system": system.name, "label": system.label, "nodes": len(deployment.nodes), "steps": []}
    try:
        rooms = system.rooms(deployment, cfg.rooms, cfg.members)
        pool = GenPool(cfg.generators, system.adapter)
        joined = pool.connect_rooms(deployment, rooms)
        result["connect"] = joined
        log(
            f"  {system.name}: {joined['connected']} connections in {joined['seconds']:.1f}s"
            + (f", {joined['errors']} refused: {joined['first_errors']}" if joined["errors"] else "")
        )
        if joined["connected"] < cfg.rooms * cfg.members * 0.99:
            result["error"] = f"only {joined['connected']} of {cfg.rooms * cfg.members} connections"
            return result
        senders = joined["senders"]
        # No pause and no discarded warm-up: what a user meets right after everyone joined is measured as it is.
        first = _step(
            deployment.nodes, deployment.helpers, redis, pool, senders, cfg.steps[0], cfg, duration=cfg.after_join_s
        )
        first["label"] = "after join"
        result["after_join"] = first
        _log_step(log, first)

        def measured(offered: int) -> dict[str, Any]:
            step = _step(deployment.nodes, deployment.helpers, redis, pool, senders, offered, cfg)
            if not step["ok"] and cfg.retry_failed_step:
                log(f"    {offered:>6}/s failed ({step['why']}); once more")
                failed = {k: step[k] for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "why")}
                step = _step(deployment.nodes, deployment.helpers, redis, pool, senders, offered, cfg)
                step["first_try"] = failed
            result["steps"].append(step)
            _log_step(log, step)
            if step["delivered_ratio"] < 0.99:
                log(f"      receipts by member position (0 = sender): {step['received_by_position']}")
            return step

        for offered in cfg.steps:
            if not measured(offered)["ok"] and cfg.stop_on_failure:
                break
        for _ in range(cfg.bisect):
            rate = bisect_rate(result["steps"])
            if rate is None:
                break
            measured(rate)["bisect"] = True
        result["bisected"] = cfg.bisect
        passing = [s for s in result["steps"] if s["ok"]]
        best = max(passing, key=lambda s: s["delivered_per_s"]) if passing else None
        result["max_deliveries_per_s"] = best["delivered_per_s"] if best else 0.0
        result["best_step"] = best
        result["cpu_ms_per_1k_by_rate"] = {s["offered"]: s["node_cpu_ms_per_1k"] for s in result["steps"]}
        result["total_cpu_ms_per_1k_by_rate"] = {s["offered"]: s["total_cpu_ms_per_1k"] for s in result["steps"]}
        result["node_rss_mib"] = [round(n.rss() / 2**20, 1) for n in deployment.nodes]
        return result
    finally:
        if pool is not None:
            pool.close()
        deployment.stop()


def _log_step(log: Any, step: dict[str, Any]) -> None:
    log(
        f"    {step.get('label') or step['offered']:>6}/s offered: {step['delivered_per_s']:>8.0f}/s delivered, "
        f"p50 {step['p50_ms']:.1f} p99 {step['p99_ms']:.1f} p99.9 {step['p999_ms']:.1f} max {step['max_ms']:.1f} ms, "
        f"nodes {step['node_cpu_ms_per_1k']:.0f} ms CPU/1k (all {step['total_cpu_ms_per_1k']:.0f}), "
        f"gen CPU {step['gen_cpu_pct']:.0f}% {'ok' if step['ok'] else 'FAIL: ' + step['why']}"
    )


def _step(
    nodes: list[Proc],
    helpers: list[Proc],
    redis: RedisServer,
    pool: GenPool,
    senders: list[int],
    offered: int,
    cfg: FanoutConfig,
    warmup: bool = False,
    duration: float | None = None,
) -> dict[str, Any]:
    msg_rate = offered / cfg.members
    total_senders = sum(senders) or 1
    if duration is None:
        duration = min(1.0, cfg.step_s) if warmup else cfg.step_s
    args = [{"rate": msg_rate * s / total_senders, "duration": duration, "grace": cfg.grace_s} for s in senders]
    cpu0 = [n.cpu_s() for n in nodes]
    help0 = [h.cpu_s() for h in helpers]
    redis0 = redis.proc.cpu_s()
    wall0 = time.monotonic()
    answers = pool.ask_all("step", args)
    wall = time.monotonic() - wall0
    node_cpu = [n.cpu_s() - c for n, c in zip(nodes, cpu0)]
    helper_cpu = [h.cpu_s() - c for h, c in zip(helpers, help0)]
    redis_cpu = redis.proc.cpu_s() - redis0
    sent = sum(a["sent"] for a in answers)
    receipts = sum(a["receipts"] for a in answers)
    incomplete = sum(a["incomplete"] for a in answers)
    closed = sum(a["closed"] for a in answers)
    send_s = max(a["send_seconds"] for a in answers)
    lat = sorted([x / 1000 for a in answers for x in a["latencies_us"]] + [float("inf")] * incomplete)
    expected = sent * cfg.members
    delivered_ratio = receipts / expected if expected else 0.0
    step = {
        "offered": offered,
        "sent": sent,
        "sent_per_s": sent / send_s if send_s else 0.0,
        "delivered": receipts,
        "delivered_per_s": receipts / send_s if send_s else 0.0,
        "delivered_ratio": delivered_ratio,
        "incomplete": incomplete,
        "closed": closed,
        **latency_summary(lat),
        "max_ok": bool(lat) and lat[-1] <= MAX_LIMIT_MS,
        "node_cpu_s": node_cpu,
        "node_cpu_pct": [100 * c / wall for c in node_cpu],
        "node_cpu_ms_per_1k": 1000 * sum(node_cpu) / (receipts / 1000) if receipts else float("inf"),
        # Everything the deployment burns (nodes + Redis + worker), the cost figure when nodes outnumber cores.
        "total_cpu_ms_per_1k": (
            1000 * (sum(node_cpu) + sum(helper_cpu) + redis_cpu) / (receipts / 1000) if receipts else float("inf")
        ),
        "helper_cpu_pct": [100 * c / wall for c in helper_cpu],
        "redis_cpu_pct": 100 * redis_cpu / wall,
        "redis_cpu_ms_per_1k": 1000 * redis_cpu / (receipts / 1000) if receipts else float("inf"),
        "gen_cpu_pct": 100 * sum(a["cpu_s"] for a in answers) / wall,
        "wall_s": wall,
        "received_by_position": {
            j: sum(a["received_by_position"].get(j, 0) for a in answers) for j in range(cfg.members)
        },
    }
    why = []
    if step["p99_ms"] > P99_LIMIT_MS:
        why.append(f"p99 {step['p99_ms']:.1f} ms")
    if delivered_ratio < 0.99:
        why.append(f"delivered {100 * delivered_ratio:.1f}%")
    if step["sent_per_s"] < 0.95 * msg_rate:
        why.append(f"generator sent only {step['sent_per_s']:.0f} of {msg_rate:.0f} msg/s")
    if closed:
        codes: dict[int, int] = {}
        for a in answers:
            for code, n in a["close_codes"].items():
                codes[code] = codes.get(code, 0) + n
        why.append(f"{closed} connections closed (codes so far {codes})")
    step["ok"] = not why
    step["why"] = ", ".join(why)
    return step
