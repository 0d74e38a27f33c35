"""`make bench` / `python -m bench [--quick]`: every workload, every system, one run; prints the table and writes
bench/results/<date>.json and .png."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from bench import fanout, idle, limits, persist, report
from bench.env import (DESCRIPTORS_OF_A_NODE, RedisServer, install_cleanup, machine, most_connections_per_process,
                       postgres_available, raise_fd_limit)
from bench.systems import by_name

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
WORKLOADS = "limits,fanout,idle,persist"
IDLE_BIG = ("helpline", "bare", "socketio")  # measured at 20,000 idle connections too, and in quick mode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--quick", action="store_true", help="short steps, fewer connections: under two minutes")
    p.add_argument("--systems", help="comma-separated subset, e.g. helpline,bare")
    p.add_argument("--workloads", default=WORKLOADS, help="comma-separated subset")
    args = p.parse_args(argv)
    raise_fd_limit()
    install_cleanup()
    quick = args.quick
    workloads = set(args.workloads.split(","))
    systems = by_name(args.systems.split(",") if args.systems else None)
    if not postgres_available():
        print("PostgreSQL is not reachable on 127.0.0.1:5432: Helpline-on-Redis and the worker are skipped")
        systems = [s for s in systems if s.name != "helpline"]
        workloads.discard("persist")
    started = time.monotonic()
    results: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "quick": quick, "machine": machine()}
    cfg = fanout.FanoutConfig(rooms=100, members=5, step_s=1.0, grace_s=0.5, retry_failed_step=False,
                              steps=(1000, 2500, 5000, 10000)) if quick else fanout.FanoutConfig(step_s=4.0)
    results["config"] = {"rooms": cfg.rooms, "members": cfg.members, "nodes": cfg.nodes, "steps": cfg.steps,
                         "step_s": cfg.step_s, "body_bytes": 100, "generators": cfg.generators}
    redis = RedisServer()
    try:
        if "limits" in workloads:
            print("limits: redis-benchmark PUBLISH", flush=True)
            results["limits"] = limits.redis_publish(redis, 20_000 if quick else 300_000)
        if "fanout" in workloads:
            print(f"fan-out: {cfg.rooms} rooms × {cfg.members} members over {cfg.nodes} nodes", flush=True)
            results["fanout"] = []
            for system in systems:
                try:
                    results["fanout"].append(fanout.run(system, redis, cfg, log=_log))
                except Exception as exc:
                    _log(f"  {system.name}: failed: {exc}")
                    results["fanout"].append({"system": system.name, "label": system.label, "nodes": 0,
                                              "steps": [], "error": str(exc)})
        if "idle" in workloads:
            print("idle connections on one node", flush=True)
            results["idle"] = []
            # 20,000 as the issue asks, unless one process may not hold that many descriptors here: then as many
            # as it can (the sandbox's hard RLIMIT_NOFILE is 20,000, which no process can raise).
            big = min(20000, most_connections_per_process())
            if big < 20000 and not quick:
                print(f"  a process may hold {big + DESCRIPTORS_OF_A_NODE} descriptors here (hard limit): the large "
                      f"idle test opens {big}", flush=True)
            results["descriptor_limit"] = big + DESCRIPTORS_OF_A_NODE
            sizes = (300,) if quick else (5000, big)
            for n in sizes:
                for system in systems:
                    if (n > 5000 or quick) and system.name not in IDLE_BIG:
                        continue
                    try:
                        results["idle"].append(idle.run(system, redis, n, 2.0 if quick else 10.0, log=_log))
                    except Exception as exc:
                        _log(f"  {system.name}: failed: {exc}")
        if "persist" in workloads:
            print("persistence: helpline worker → PostgreSQL", flush=True)
            try:
                results["persistence"] = persist.run(redis, 5_000 if quick else 200_000, 2000 if quick else 5000,
                                                     2.0 if quick else 10.0, log=_log)
            except Exception as exc:
                _log(f"  failed: {exc}")
    finally:
        redis.stop()
    results["duration_s"] = round(time.monotonic() - started, 1)
    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M") + ("-quick" if quick else "")
    report.write_json(results, RESULTS / f"{stamp}.json")
    report.chart(results, RESULTS / f"{stamp}.png")
    text = report.table(results)
    (RESULTS / f"{stamp}.md").write_text(text + "\n")
    if not quick and not args.systems and args.workloads == WORKLOADS:
        report.update_docs(results, text, RESULTS / f"{stamp}.png", DOCS)
    print()
    print(text)
    print(f"\nwritten: bench/results/{stamp}.json, .png, .md ({results['duration_s']:.0f} s)")
    return 0


def _log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
