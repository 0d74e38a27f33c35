"""Workload 2, idle connections: N authenticated, joined, silent connections on one node; RSS per connection, the
CPU the node spends keeping them (heartbeats, pings) while nothing is said, and the pause of a full garbage
collection with them all open (bench/gc_probe: the objects it walks, per connection, by type)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

from bench.env import RedisServer
from bench.genpool import GenPool
from bench.systems import System

GC_PROBE = Path(__file__).resolve().parent / "gc_probe"


@contextlib.contextmanager
def _with_gc_probe() -> Iterator[None]:
    """The processes started meanwhile get bench/gc_probe first on PYTHONPATH (a stall probe already there stays
    first: one sitecustomize is imported, and that run is about stalls)."""
    before = os.environ.get("PYTHONPATH")
    if before is None or "stall_probe" not in before:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GC_PROBE), before) if p)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def full_collection(pid: int, timeout_s: float = 60.0) -> dict[str, Any] | None:
    """Ask a node's gc probe for two full collections; what it measured, or None without a probe."""
    return ask_gc_probe(pid, "trigger", "json", timeout_s)


def ask_gc_probe(pid: int, trigger_suffix: str, out_suffix: str, timeout_s: float) -> dict[str, Any] | None:
    """Touch the probe's trigger file and wait for its answer; None (the trigger taken back) if none comes."""
    trigger, out = Path(f"/tmp/gc-probe-{pid}.{trigger_suffix}"), Path(f"/tmp/gc-probe-{pid}.{out_suffix}")
    out.unlink(missing_ok=True)
    trigger.touch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if out.exists():
            result: dict[str, Any] = json.loads(out.read_text())
            out.unlink()
            return result
        time.sleep(0.1)
    trigger.unlink(missing_ok=True)
    return None


def run(
    system: System, redis: RedisServer, connections: int, idle_window_s: float, generators: int = 2, log: Any = print
) -> dict[str, Any]:
    redis.flush()
    with _with_gc_probe():
        deployment = system.start(1, redis)
    node = deployment.nodes[0]
    pool: GenPool | None = None
    result: dict[str, Any] = {"system": system.name, "connections_wanted": connections}
    try:
        rooms = system.rooms(deployment, max(1, connections // 5), 5)
        pool = GenPool(generators, system.adapter)
        gc_base = full_collection(node.ps.pid)  # what the node walks with no connection, to subtract
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
        gc_full = full_collection(node.ps.pid)  # after the idle window: the connect burst's garbage is long gone
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
        if gc_full is not None and gc_base is not None:
            base_types = dict(gc_base["top_types"])
            result.update(
                {
                    "gc_full_pause_ms": gc_full["pause_ms"],
                    "gc_base_pause_ms": gc_base["pause_ms"],
                    "gc_tracked": gc_full["tracked"],
                    "gc_frozen": gc_full["frozen"],
                    "gc_tracked_per_connection": (gc_full["tracked"] - gc_base["tracked"]) / n if n else None,
                    # per connection, by type: the most common types of the walk less what was there before
                    "gc_types_per_connection": {
                        name: round((count - base_types.get(name, 0)) / n, 2)
                        for name, count in gc_full["top_types"]
                        if n and count - base_types.get(name, 0) >= n / 10
                    },
                }
            )
        log(
            f"  {system.name}: {n} idle connections ({joined['errors']} refused, {joined.get('handshake_retries', 0)} handshakes retried) in {joined['seconds']:.0f}s, "
            f"{result['kib_per_connection'] or 0:.1f} KiB each, idle CPU {result['idle_cpu_pct']:.1f}%"
            + (f", closed while idle: {close_codes}" if close_codes else "")
            + (
                f"; full-collection pause at {n} connections {gc_full['pause_ms']:.1f} ms, "
                f"{gc_full['tracked']:,} objects walked ({result['gc_tracked_per_connection'] or 0:.1f} per "
                f"connection; {gc_base['pause_ms']:.1f} ms with none)"
                if "gc_full_pause_ms" in result and gc_full is not None and gc_base is not None
                else ""
            )
        )
        return result
    finally:
        if pool is not None:
            pool.close()
        deployment.stop()
