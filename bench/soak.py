"""Workload (opt-in, `--workloads soak`): Helpline's 2 nodes, worker and Redis held at half the top fan-out rate for
10 minutes (`--soak-s`), in back-to-back intervals. Reported: node RSS growth, the worker's lag over time (is it
flat?), connections lost, and each interval's latency up to the maximum."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from bench import fanout
from bench.env import RedisServer
from bench.genpool import GenPool
from bench.persist import _lag
from bench.stats import soak_summary
from bench.systems import Helpline


def run(
    redis: RedisServer, cfg: fanout.FanoutConfig, offered: int, soak_s: float, interval_s: float, log: Any = print
) -> dict[str, Any]:
    redis.flush()
    system = Helpline()
    deployment = system.start(cfg.nodes, redis)
    pool: GenPool | None = None
    out: dict[str, Any] = {"offered": offered, "seconds": soak_s, "interval_s": interval_s, "intervals": []}
    lag_client = aioredis.from_url(redis.url)
    loop = asyncio.new_event_loop()
    try:
        rooms = system.rooms(deployment, cfg.rooms, cfg.members)
        pool = GenPool(cfg.generators, system.adapter)
        joined = pool.connect_rooms(deployment, rooms)
        out["connected"] = joined["connected"]
        step_cfg = fanout.FanoutConfig(
            rooms=cfg.rooms, members=cfg.members, nodes=cfg.nodes, step_s=interval_s, grace_s=0.5
        )
        started = time.monotonic()
        while time.monotonic() - started < soak_s:
            step = fanout._step(deployment.nodes, deployment.helpers, redis, pool, joined["senders"], offered, step_cfg)
            at = time.monotonic() - started
            lag = loop.run_until_complete(_lag(lag_client))
            rss = [round(n.rss() / 2**20, 1) for n in deployment.nodes]
            # Beside the nodes (the goal's figure): the worker, and Redis, whose streams are capped and trimmed.
            helpers_rss = [round(h.rss() / 2**20, 1) for h in deployment.helpers]
            redis_rss = round(redis.proc.rss() / 2**20, 1)
            out["intervals"].append(
                {
                    "at_s": round(at, 1),
                    "delivered_per_s": step["delivered_per_s"],
                    "p99_ms": step["p99_ms"],
                    "max_ms": step["max_ms"],
                    "closed": step["closed"],
                    "worker_lag": lag,
                    "node_rss_mib": rss,
                    "worker_rss_mib": helpers_rss,
                    "redis_rss_mib": redis_rss,
                    "ok": step["ok"],
                    "why": step["why"],
                }
            )
            log(
                f"    soak {at:>5.0f}s: {step['delivered_per_s']:.0f}/s, p99 {step['p99_ms']:.1f} max "
                f"{step['max_ms']:.1f} ms, worker lag {lag}, RSS {rss} MiB (worker {helpers_rss}, Redis {redis_rss}), "
                f"closed {step['closed']}"
            )
        out.update(soak_summary(out["intervals"], offered / cfg.members))
        log(
            f"  soak: RSS growth {out['rss_growth_pct']} % from {out['rss_baseline_at_s']:.0f} s "
            f"({out['rss_growth_from_first_pct']} % from the first interval), worker lag {out['worker_lag_first']} → "
            f"{out['worker_lag_last']} ({'flat' if out['worker_lag_flat'] else 'growing'}), "
            f"{out['connections_lost']} connections lost"
        )
        return out
    finally:
        loop.run_until_complete(lag_client.aclose())
        loop.close()
        if pool is not None:
            pool.close()
        deployment.stop()
