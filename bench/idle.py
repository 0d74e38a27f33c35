"""Workload 2, idle connections: N authenticated, joined, silent connections on one node; RSS per connection and
the CPU the node spends keeping them (heartbeats, pings) while nothing is said."""

from __future__ import annotations

import time
from typing import Any

from bench.env import RedisServer
from bench.genpool import GenPool
from bench.systems import System


def run(
    system: System, redis: RedisServer, connections: int, idle_window_s: float, generators: int = 2, log: Any = print
) -> dict[str, Any]:
    redis.flush()
    deployment = system.start(1, redis)
    node = deployment.nodes[0]
    pool: GenPool | None = None
    result: dict[str, Any] = {"system": system.name, "connections_wanted": connections}
    try:
        rooms = system.rooms(deployment, max(1, connections // 5), 5)
        pool = GenPool(generators, system.adapter)
        time.sleep(1.0)
        rss0 = node.rss()
        joined = pool.connect_rooms(deployment, rooms, concurrency=50)
        time.sleep(2.0)  # let the node's allocator settle after the burst of handshakes
        rss1 = node.rss()
        n = joined["connected"]
        cpu0, t0 = node.cpu_s(), time.monotonic()
        time.sleep(idle_window_s)
        cpu1, t1 = node.cpu_s(), time.monotonic()
        answers = pool.ask_all("cpu")
        alive = sum(a["open"] - a["closed"] for a in answers)
        close_codes: dict[str, int] = {}
        for a in answers:
            for code, count in a["close_codes"].items():
                close_codes[str(code)] = close_codes.get(str(code), 0) + count
        result.update(
            {
                "connections": n,
                "errors": joined["errors"],
                "first_errors": joined["first_errors"],
                "connect_s": joined["seconds"],
                "still_open": alive,
                "close_codes": close_codes,
                "handshake_retries": joined.get("handshake_retries", 0),
                "rss_base_mib": round(rss0 / 2**20, 1),
                "rss_mib": round(rss1 / 2**20, 1),
                "kib_per_connection": (rss1 - rss0) / 1024 / n if n else None,
                "idle_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
                "idle_window_s": idle_window_s,
            }
        )
        log(
            f"  {system.name}: {n} idle connections ({joined['errors']} refused, {joined.get('handshake_retries', 0)} handshakes retried) in {joined['seconds']:.0f}s, "
            f"{result['kib_per_connection'] or 0:.1f} KiB each, idle CPU {result['idle_cpu_pct']:.1f}%"
            + (f", closed while idle: {close_codes}" if close_codes else "")
        )
        return result
    finally:
        if pool is not None:
            pool.close()
        deployment.stop()
