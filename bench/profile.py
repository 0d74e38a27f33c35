"""`python -m bench.profile`: hold one system at a fixed offered fan-out rate and record where its processes spend CPU.

py-spy samples every gateway node and helper (the Helpline worker) while the load generator holds the rate; the
collapsed stacks go to bench/results/profile-<system>-<process>.txt (open them with speedscope or flamegraph.pl) and
the functions with the most self time are printed. Use it on the hot path before and after a change; the figures that
count still come from `make bench`, with the peers in the same run.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import time
from typing import Any

import httpx
from pathlib import Path

from bench import fanout, storm
from bench.env import BENCH_PYTHON, RedisClusterServer, RedisServer, install_cleanup, raise_fd_limit
from bench.genpool import GenPool
from bench.systems import Helpline, System, by_name

RESULTS = Path(__file__).resolve().parent / "results"


def shares(collapsed: Path, n: int, self_only: bool) -> list[tuple[float, str]]:
    """Per function, its share of all samples: as the leaf frame (self time), or anywhere on the stack (inclusive,
    counted once per stack)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for frame in frames[-1:] if self_only else set(frames):
            counts[frame] += samples
    return [(100 * c / total, name) for name, c in counts.most_common(n)] if total else []


def commit_latency(port: int | None) -> str:
    """The node's own commit-latency histogram (Helpline's /metrics), as the share of commits under each bound."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except Exception:
        return "no /metrics"
    buckets = [
        (line.split('le="')[1].split('"')[0], float(line.split()[-1]))
        for line in text.splitlines()
        if line.startswith("helpline_commit_seconds_bucket")
    ]
    if not buckets or not buckets[-1][1]:
        return "no commits"
    total = buckets[-1][1]
    return "commits " + ", ".join(f"<= {le}s {100 * n / total:.0f}%" for le, n in buckets if le != "+Inf")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--system", default="helpline")
    p.add_argument("--rate", type=int, default=5000, help="offered deliveries/s")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--rooms", type=int, default=200)
    p.add_argument("--members", type=int, default=5)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--nodes", type=int, default=2, help="gateway nodes (members of a room alternate over them)")
    p.add_argument(
        "--joins",
        action="store_true",
        help="profile the connect-and-join burst (every member's hello and join) instead of the fan-out",
    )
    p.add_argument(
        "--storm",
        type=int,
        metavar="CLIENTS",
        help="profile the survivor of the reconnect storm (bench/storm.py) with this many clients, from the kill on",
    )
    p.add_argument("--native", action="store_true", help="sample native frames too (C extensions, the interpreter)")
    p.add_argument("--cluster", action="store_true", help="Helpline on a 3-shard Redis Cluster (+3 replicas)")
    p.add_argument("--min-replicas", type=int, default=0, help="HELPLINE_REDIS_MIN_REPLICAS (with --cluster)")
    args = p.parse_args(argv)
    raise_fd_limit()
    install_cleanup()
    py_spy = shutil.which("py-spy") or str(Path(BENCH_PYTHON).parent / "py-spy")
    if args.storm:
        return _profile_storm(py_spy, args)
    if args.cluster:
        system: System = Helpline(where="cluster", min_replicas=args.min_replicas)
        redis: RedisServer | RedisClusterServer = RedisClusterServer(3)
    else:
        (system,) = by_name([args.system])
        redis = RedisServer()
    deployment = system.start(args.nodes, redis)
    pool = None
    try:
        rooms = system.rooms(deployment, args.rooms, args.members)
        pool = GenPool(2, system.adapter)
        spies = []

        def spy_on_every_process(seconds: float) -> None:
            for proc in deployment.nodes + deployment.helpers:
                out = RESULTS / f"profile-{system.name}-{proc.name}.txt"
                cmd = [
                    py_spy,
                    "record",
                    "-p",
                    str(proc.popen.pid),
                    "-d",
                    str(int(seconds)),
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                ] + (["--native"] if args.native else [])
                spies.append((proc, out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))

        if args.joins:
            spy_on_every_process(args.seconds)
            time.sleep(0.5)
        joined = pool.connect_rooms(deployment, rooms)
        if args.joins:
            print(
                f"{system.name}: {joined['connected']} connections joined in {joined['seconds']:.1f}s "
                f"({joined['connected'] / joined['seconds']:.0f}/s), {joined['errors']} refused"
            )
        else:
            cfg = fanout.FanoutConfig(rooms=args.rooms, members=args.members, nodes=args.nodes, step_s=args.seconds + 2)
            fanout._step(deployment.nodes, deployment.helpers, redis, pool, joined["senders"], 500, cfg, warmup=True)
            spy_on_every_process(args.seconds)
            time.sleep(0.5)
            step = fanout._step(deployment.nodes, deployment.helpers, redis, pool, joined["senders"], args.rate, cfg)
            print(
                f"{system.name} at {args.rate}/s offered: {step['delivered_per_s']:.0f}/s delivered, p50 "
                f"{step['p50_ms']:.1f} p99 {step['p99_ms']:.1f} ms, node CPU {step['node_cpu_ms_per_1k']:.0f} ms/1k, "
                f"nodes {[round(x) for x in step['node_cpu_pct']]}%, helpers "
                f"{[round(x) for x in step['helper_cpu_pct']]}%, generator {step['gen_cpu_pct']:.0f}%"
            )
        for proc in deployment.nodes:
            print(f"{proc.name}: {commit_latency(proc.port)}")
        _print_spies(spies, args.top)
        return 0
    finally:
        if pool is not None:
            pool.close()
        deployment.stop()
        redis.stop()


def _print_spies(spies: list[tuple[Any, Path, subprocess.Popen[bytes]]], top: int) -> None:
    for proc, out, spy in spies:
        _, err = spy.communicate(timeout=60)
        if not out.exists():
            print(f"{proc.name}: py-spy wrote nothing: {err.decode(errors='replace')[-400:]}")
            continue
        print(f"\n== {proc.name}: self time ({out.relative_to(RESULTS.parent.parent)})")
        for share, name in shares(out, top, self_only=True):
            print(f"{share:6.1f}%  {name}")
        print(f"-- {proc.name}: inclusive")
        for share, name in shares(out, top, self_only=False):
            print(f"{share:6.1f}%  {name}")


def _profile_storm(py_spy: str, args: argparse.Namespace) -> int:
    """The storm's Helpline half, with py-spy on the survivor for `--seconds` from just before the kill."""
    spies: list[tuple[Any, Path, subprocess.Popen[bytes]]] = []

    def spy_on(survivor: Any) -> None:
        out = RESULTS / "profile-helpline-storm-survivor.txt"
        out.unlink(missing_ok=True)
        cmd = [py_spy, "record", "-p", str(survivor.popen.pid), "-d", str(int(args.seconds)), "-r", "200"]
        cmd += ["-f", "raw", "-o", str(out)] + (["--native"] if args.native else [])
        spies.append((survivor, out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        time.sleep(0.3)  # py-spy attached before the storm starts

    redis = RedisServer()
    try:
        result = storm._storm(Helpline(), redis, args.storm, 200.0, "helpline", print, on_kill=spy_on)
        print(
            f"storm of {args.storm}: {result.get('caught_up')} caught up, {result.get('resumes_per_s') or 0:.0f}/s, "
            f"survivor {result.get('survivor_cpu_ms_per_resume') or 0:.2f} ms CPU per client back, "
            f"phases {result.get('phases_ms')}"
        )
        _print_spies(spies, args.top)
        return 0
    finally:
        redis.stop()


if __name__ == "__main__":
    raise SystemExit(main())
