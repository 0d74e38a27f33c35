"""`make bench` / `python -m bench [--quick] [--workloads ...]`: every workload, every system, one run; prints the
tables and writes bench/results/<date>.json, .md and .png, with each workload's wall seconds (`workload_s`). The soak
runs last, at half the top rate the run's fan-out found (alone, `--workloads soak` runs that fan-out first)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import fanout, idle, limits, persist, report, soak, storm, widgetload
from bench.env import (
    DESCRIPTORS_OF_A_NODE,
    RedisClusterServer,
    RedisServer,
    install_cleanup,
    machine,
    most_connections_per_process,
    postgres_available,
    raise_fd_limit,
)
from bench.stats import soak_rate
from bench.systems import Bare, Helpline, System, by_name

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# The full run, in this order (the soak last): ~32 minutes on a quiet 2-core machine (docs/benchmarks.md, Reproduce).
WORKLOADS = "limits,fanout,embedded,nodes4,storm,idle,persist,widget,cluster,soak"
IDLE_BIG = ("helpline", "bare", "socketio")  # measured at 20,000 idle connections too, and in quick mode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--quick", action="store_true", help="short steps, fewer connections: under two minutes")
    p.add_argument("--systems", help="comma-separated subset, e.g. helpline,bare")
    p.add_argument("--workloads", default=WORKLOADS, help=f"comma-separated subset of {WORKLOADS}")
    p.add_argument("--soak-s", type=float, help="soak length in seconds (600; 60 with --quick)")
    p.add_argument("--soak-rate", type=int, help="soak deliveries/s (default: half Helpline's top rate of this run)")
    p.add_argument("--idle-sizes", help="comma-separated idle connection counts (300 with --quick; 5000 and 20,000)")
    p.add_argument("--storm-clients", type=int, help="clients in the reconnect storm (10,000; 1,000 with --quick)")
    args = p.parse_args(argv)
    raise_fd_limit()
    install_cleanup()
    quick = args.quick
    workloads = set(args.workloads.split(","))
    systems = by_name(args.systems.split(",") if args.systems else None)
    if not postgres_available():
        print("PostgreSQL is not reachable on 127.0.0.1:5432: Helpline-on-Redis and the worker are skipped")
        systems = [s for s in systems if s.name != "helpline"]
        for needs_postgres in ("persist", "nodes4", "storm", "soak"):
            workloads.discard(needs_postgres)
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
    }
    cfg = (
        fanout.FanoutConfig(
            rooms=100, members=5, step_s=1.0, grace_s=0.5, retry_failed_step=False, steps=(1000, 2500, 5000, 10000)
        )
        if quick
        else fanout.FanoutConfig(step_s=4.0)
    )
    results["config"] = {
        "rooms": cfg.rooms,
        "members": cfg.members,
        "nodes": cfg.nodes,
        "steps": cfg.steps,
        "step_s": cfg.step_s,
        "body_bytes": 100,
        "generators": cfg.generators,
    }
    redis = RedisServer()
    try:
        _timed(results, workloads, "limits")
        if "limits" in workloads:
            print("limits: redis-benchmark PUBLISH", flush=True)
            results["limits"] = limits.redis_publish(redis, 20_000 if quick else 300_000)
        _timed(results, workloads, "fanout")
        if "fanout" in workloads:
            print(f"fan-out: {cfg.rooms} rooms × {cfg.members} members over {cfg.nodes} nodes", flush=True)
            results["fanout"] = []
            for system in systems:
                if system.name == "helpline-memory" and "embedded" in workloads:
                    continue  # measured by its own workload below
                try:
                    results["fanout"].append(fanout.run(system, redis, cfg, log=_log))
                except Exception as exc:
                    _log(f"  {system.name}: failed: {exc}")
                    results["fanout"].append(
                        {"system": system.name, "label": system.label, "nodes": 0, "steps": [], "error": str(exc)}
                    )
        _timed(results, workloads, "embedded")
        if "embedded" in workloads:
            print(
                "embedded default: one `helpline gateway` on SQLite, in-memory bus (all members on one node)",
                flush=True,
            )
            results["embedded"] = _fanout_or_error(Helpline(memory=True), redis, cfg)
        _timed(results, workloads, "nodes4")
        if "nodes4" in workloads:
            print("four nodes: Helpline fan-out on 4 gateway nodes, one Redis, one worker", flush=True)
            two = next((r for r in results.get("fanout", []) if r["system"] == "helpline" and r.get("steps")), None)
            if two is None:
                two = _fanout_or_error(Helpline(), redis, cfg)
            four = _fanout_or_error(Helpline(), redis, dataclasses.replace(cfg, nodes=4))
            results["nodes4"] = {"two": two, "four": four, "ratio_by_rate": report.cpu_ratio_by_rate(two, four)}
            # The bare server on 4 nodes too: what the machine itself charges for the two extra processes (their
            # receptions, and four busy processes on two cores), the peer beside which Helpline's ratio is read.
            bare_two = next((r for r in results.get("fanout", []) if r["system"] == "bare" and r.get("steps")), None)
            if bare_two is not None:
                bare_four = _fanout_or_error(Bare(), redis, dataclasses.replace(cfg, nodes=4))
                results["nodes4"]["bare_ratio_by_rate"] = report.cpu_ratio_by_rate(bare_two, bare_four)
        _timed(results, workloads, "cluster")
        if "cluster" in workloads:
            print("Redis Cluster: fan-out on 3 shards (+3 replicas) next to one Redis, 2 and 4 nodes", flush=True)
            results["cluster"] = _cluster(redis, cfg, _single_redis_runs(results))
        _timed(results, workloads, "storm")
        if "storm" in workloads:
            clients = args.storm_clients or (1000 if quick else 10_000)
            print(f"reconnect storm: {clients} clients on 2 nodes, one killed", flush=True)
            results["storm"] = storm.run(redis, clients, 200.0, log=_log)
        _timed(results, workloads, "idle")
        if "idle" in workloads:
            print("idle connections on one node", flush=True)
            results["idle"] = []
            # 20,000 as the issue asks, unless one process may not hold that many descriptors here: then as many
            # as it can (the sandbox's hard RLIMIT_NOFILE is 20,000, which no process can raise).
            big = min(20000, most_connections_per_process())
            if big < 20000 and not quick:
                print(
                    f"  a process may hold {big + DESCRIPTORS_OF_A_NODE} descriptors here (hard limit): the large "
                    f"idle test opens {big}",
                    flush=True,
                )
            results["descriptor_limit"] = big + DESCRIPTORS_OF_A_NODE
            sizes = (300,) if quick else (5000, big)
            if args.idle_sizes:
                sizes = tuple(min(big, int(n)) for n in args.idle_sizes.split(","))
            for n in sizes:
                for system in systems:
                    if (n > 5000 or quick) and system.name not in IDLE_BIG:
                        continue
                    try:
                        results["idle"].append(idle.run(system, redis, n, 2.0 if quick else 10.0, log=_log))
                    except Exception as exc:
                        _log(f"  {system.name}: failed: {exc}")
        _timed(results, workloads, "persist")
        if "persist" in workloads:
            print("persistence: helpline worker → PostgreSQL", flush=True)
            try:
                results["persistence"] = persist.run(
                    redis, 5_000 if quick else 200_000, 2000 if quick else 5000, 2.0 if quick else 10.0, log=_log
                )
            except Exception as exc:
                _log(f"  failed: {exc}")
        _timed(results, workloads, "widget")
        if "widget" in workloads:
            print("widget first load: headless Chromium on the demo page of `helpline up`", flush=True)
            try:
                results["widget"] = widgetload.run(1 if quick else 3, log=_log)
            except Exception as exc:
                _log(f"  failed: {exc}")
                results["widget"] = {"error": str(exc)}
        _timed(results, workloads, "soak")
        if "soak" in workloads:
            results["soak"] = _soak(args, results, redis, cfg)
        _timed(results, workloads, None)
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


CLUSTER_BISECT = 3  # steps of bisection of each configuration's top rate: within ~1/16 of the stepped gap
CLUSTER_ABOVE = (
    15000,
    20000,
    30000,
    40000,
    50000,
    60000,
)  # rates past --quick's top step, so that its top is found, not floored


def _cluster(redis: RedisServer, cfg: fanout.FanoutConfig, reuse: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """In one run: one Redis and a 3-shard cluster, each with 2 and 4 gateway nodes, the cluster with
    HELPLINE_REDIS_MIN_REPLICAS=1 (each shard has a replica to wait for), and its 3 shards without replicas. Each configuration's top rate is bisected
    (CLUSTER_BISECT) so that the goals compare ceilings, not the step each one stopped at. One Redis's runs are
    taken from `reuse` (the run's own 2-node fan-out and 4-node workload: the same deployment and steps) when they
    were bisected as well."""
    steps = tuple(sorted({*cfg.steps, *(rate for rate in CLUSTER_ABOVE if rate > max(cfg.steps))}))
    # A failed step is tried once more, as in the full run, even with --quick: one bad second on a shared machine
    # otherwise sets a configuration's top (a quick run's cluster, 2 nodes: 14,351/s one time, 39,924/s another).
    cfg = dataclasses.replace(cfg, steps=steps, bisect=CLUSTER_BISECT, retry_failed_step=True)
    cluster = RedisClusterServer(3)
    out: dict[str, Any] = {}
    try:
        for nodes in (2, 4):
            sized = dataclasses.replace(cfg, nodes=nodes)
            key = f"single_{nodes}"
            reused = reuse.get(key)
            bisected = reused is not None and reused.get("bisected", 0) >= CLUSTER_BISECT
            out[key] = reused if bisected else _fanout_or_error(Helpline(where="one Redis"), redis, sized)
            out[f"cluster_{nodes}"] = _fanout_or_error(Helpline(where="cluster"), cluster, sized)  # type: ignore[arg-type]
            out[f"cluster_{nodes}"]["getkeys"] = cluster.getkeys_calls()
        out["cluster_2_replicas1"] = _fanout_or_error(
            Helpline(where="cluster", min_replicas=1),
            cluster,  # type: ignore[arg-type]
            cfg,
        )
        out["cluster_2_replicas1"]["getkeys"] = cluster.getkeys_calls()
    finally:
        cluster.stop()
    # The same 3 shards without their replicas, 2 nodes: what the cluster costs on these cores apart from what
    # replication costs (three more busy Redis processes, every write sent on to them).
    bare_shards = RedisClusterServer(3, replicas=0)
    try:
        sized = dataclasses.replace(cfg, nodes=2)
        out["cluster_2_no_replicas"] = _fanout_or_error(Helpline(where="cluster"), bare_shards, sized)  # type: ignore[arg-type]
        out["cluster_2_no_replicas"]["getkeys"] = bare_shards.getkeys_calls()
    finally:
        bare_shards.stop()
    for key, run in out.items():
        best = run.get("best_step") or {}
        _log(
            f"  {key}: {run.get('max_deliveries_per_s', 0):.0f} deliveries/s at p99 <= 25 ms; "
            f"per 1k: nodes {best.get('node_cpu_ms_per_1k', 0):.0f} ms CPU, Redis {best.get('redis_cpu_ms_per_1k', 0):.0f} ms"
            + (f"; COMMAND GETKEYS calls: {run['getkeys']}" if "getkeys" in run else "")
        )
    return out


def _single_redis_runs(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Helpline on one Redis with 2 and 4 nodes, as this run's fan-out and 4-node workload measured them: the
    cluster's comparison needs the same two, and running them again would add two fan-outs (~3 minutes)."""
    two = next((r for r in results.get("fanout", []) if r["system"] == "helpline" and r.get("steps")), None)
    two = two or (results.get("nodes4") or {}).get("two")
    four = (results.get("nodes4") or {}).get("four")
    runs = {
        "single_2": two if two and two.get("steps") else None,
        "single_4": four if four and four.get("steps") else None,
    }
    return {key: run for key, run in runs.items() if run}


def _fanout_or_error(system: System, redis: RedisServer, cfg: fanout.FanoutConfig) -> dict[str, Any]:
    try:
        return fanout.run(system, redis, cfg, log=_log)
    except Exception as exc:
        _log(f"  {system.name}: failed: {exc}")
        for line in _last_traceback(system.name):  # the next deployment of the same name overwrites its logs
            _log(f"    {line}")
        return {"system": system.name, "label": system.label, "nodes": 0, "steps": [], "error": str(exc)}


def _last_traceback(name: str) -> list[str]:
    """The last traceback in the logs of the system's processes of this run (bench/env.py `Proc`), if any."""
    for log in sorted(Path(tempfile.gettempdir()).glob(f"bench-{name}*-{os.getpid()}.log")):
        lines = log.read_text(errors="replace").splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
        if starts:
            return [f"{log.name}:", *lines[starts[-1] : starts[-1] + 40]]
    return []


def _soak(
    args: argparse.Namespace, results: dict[str, Any], redis: RedisServer, cfg: fanout.FanoutConfig
) -> dict[str, Any]:
    top = next((r.get("max_deliveries_per_s") for r in results.get("fanout", []) if r["system"] == "helpline"), None)
    if top is None and not args.soak_rate:
        # The soak alone: its rate is half the top of a Helpline fan-out, so that fan-out runs first (and is reported).
        print("soak: Helpline's fan-out first, for its top rate", flush=True)
        helpline = _fanout_or_error(Helpline(), redis, cfg)
        results.setdefault("fanout", []).append(helpline)
        top = helpline.get("max_deliveries_per_s") or None
    offered = args.soak_rate or soak_rate(top or (10_000 if args.quick else 40_000))
    seconds = args.soak_s or (60.0 if args.quick else 600.0)
    print(f"soak: Helpline at {offered} deliveries/s for {seconds:.0f} s", flush=True)
    try:
        out = soak.run(redis, cfg, offered, seconds, 5.0 if seconds <= 120 else 10.0, log=_log)
        out["rate_from"] = "--soak-rate" if args.soak_rate else f"half the top, {top or 0:.0f}/s"
        return out
    except Exception as exc:
        _log(f"  failed: {exc}")
        return {"error": str(exc)}


_STARTED: dict[str, float] = {}


def _timed(results: dict[str, Any], workloads: set[str], name: str | None) -> None:
    """Closes the workload before (its wall seconds go to results["workload_s"]) and opens `name`: what each
    workload of a run costs, so that the full run's length stays known (docs/benchmarks.md, Reproduce)."""
    now = time.monotonic()
    for before, since in _STARTED.items():
        results.setdefault("workload_s", {})[before] = round(now - since, 1)
    _STARTED.clear()
    if name in workloads:
        _STARTED[name] = now


def _log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
