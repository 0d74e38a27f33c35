"""Workload: a reconnect storm. Two gateway nodes on one Redis hold N joined clients while messages flow; one node
is killed with SIGKILL; every client of it reconnects to the other node with the widget's jittered backoff, says hello
and rejoins with `since`, and must be caught up gap-free (each client's seqs are checked).

Beside it, in the same run, the bare server's plain reconnect: the same clients, the same kill and backoff, connect
only (the issue's baseline); and the bare server's own resume, connect + hello (PyJWT) + join in one round trip, the
same exchanges as Helpline's without the history. Reported: time from the kill until the last client is caught up
(connected), and resumes (connects) per second.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Callable

from bench import stormgen
from bench.env import RedisServer
from bench.genpool import GenPool
from bench.stats import percentile
from bench.systems import Bare, Deployment, Helpline, Room, System

MEMBERS = 5
CLIENTS_PER_GENERATOR = 2500  # a storm client process drives this many: at 10,000, four share the reconnects


def run(redis: RedisServer, clients: int, msg_rate: float, log: Any = print) -> dict[str, Any]:
    result: dict[str, Any] = {"clients": clients, "members": MEMBERS, "msg_per_s": msg_rate}
    for key, system, mode in (
        ("helpline", Helpline(), "helpline"),
        ("bare", Bare(), "bare"),
        ("bare_resume", Bare(), "bare-resume"),
    ):
        try:
            result[key] = _storm(system, redis, clients, msg_rate if mode == "helpline" else 0.0, mode, log)
        except Exception as exc:  # one system failing must not lose the other's figures
            log(f"  storm {system.name} ({mode}): failed: {exc}")
            result[key] = {"error": str(exc)}
    hl, bare, bare_resume = result["helpline"], result["bare"], result["bare_resume"]
    if hl.get("resumes_per_s") and bare.get("resumes_per_s"):
        result["resume_rate_vs_bare"] = hl["resumes_per_s"] / bare["resumes_per_s"]
    if hl.get("resumes_per_s") and bare_resume.get("resumes_per_s"):
        result["resume_rate_vs_bare_resume"] = hl["resumes_per_s"] / bare_resume["resumes_per_s"]
    return result


def _plans(deployment: Deployment, rooms: list[Room], generators: int) -> list[list[dict[str, Any]]]:
    """Rooms go whole to one generator; a room's members alternate between the two nodes, as in the fan-out."""
    ports = [n.port for n in deployment.nodes]
    plans: list[list[dict[str, Any]]] = [[] for _ in range(generators)]
    for i, room in enumerate(rooms):
        for j, tok in enumerate(room.tokens):
            home = (i + j) % len(ports)
            plans[i % generators].append(
                {
                    "room": room.id,
                    "token": tok,
                    "sender": j == 0,
                    "port": ports[home],
                    "alt_port": ports[(home + 1) % len(ports)],
                }
            )
    return plans


def _storm(
    system: System,
    redis: RedisServer,
    clients: int,
    msg_rate: float,
    mode: str,
    log: Any,
    on_kill: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """`mode`: "helpline", "bare" (connect only) or "bare-resume" (stormgen.main). `on_kill(survivor)` (bench.profile
    --storm) is called just before the kill, e.g. to start a profiler on it."""
    track, resumes = mode == "helpline", mode != "bare"
    redis.flush()
    deployment = system.start(2, redis)
    pool: GenPool | None = None
    out: dict[str, Any] = {"system": system.name, "label": system.label}
    try:
        rooms = system.rooms(deployment, clients // MEMBERS, MEMBERS)
        # Two processes could not keep up with 5,000 clients reconnecting at once (their handshakes, hellos, joins and
        # seq checks): more of them, so the figure is the server's, not the generator's.
        generators = max(2, -(-clients // CLIENTS_PER_GENERATOR))
        pool = GenPool(generators, mode, target=stormgen.main)
        answers = pool.ask_all("connect", [{"plan": p} for p in _plans(deployment, rooms, generators)])
        connected = sum(a["connected"] for a in answers)
        out["connected"] = connected
        out["connect_s"] = max(a["seconds"] for a in answers)
        out["connect_errors"] = [e for a in answers for e in a["first_errors"]][:3]
        log(
            f"  storm {system.name} ({mode}): {connected} clients {'joined' if resumes else 'connected'} in "
            f"{out['connect_s']:.1f}s" + (f", refused: {out['connect_errors']}" if out["connect_errors"] else "")
        )
        if connected < clients * 0.99:
            out["error"] = f"only {connected} of {clients} clients"
            return out
        dead, survivor = deployment.nodes
        base0, base_t0 = survivor.cpu_s(), time.monotonic()
        if msg_rate:
            pool.ask_all("send", {"rate": msg_rate / generators})
        time.sleep(2.0)  # messages flow before and through the kill; the survivor's CPU rate without a storm
        baseline_cpu_per_s = (survivor.cpu_s() - base0) / (time.monotonic() - base_t0)
        pool.ask_all("arm")
        if on_kill is not None:
            on_kill(survivor)
        cpu0 = survivor.cpu_s()
        killed_at = time.monotonic()
        os.kill(dead.popen.pid, signal.SIGKILL)  # the process we started, by its own pid
        status = _wait_caught_up(pool, killed_at, log)
        survivor_cpu = survivor.cpu_s() - cpu0
        storm_s = max(time.monotonic() - killed_at, 1e-3)
        lost, done = sum(s["lost"] for s in status), sum(s["done"] for s in status)
        first_try = min((s["first_try_at"] for s in status if s["first_try_at"]), default=killed_at)
        last = max(s["last_caught_up_at" if resumes else "last_connected_at"] for s in status)
        out.update(
            {
                "lost": lost,
                "caught_up": done,
                "killed_node_clients": lost,
                "seconds_to_last": (last - killed_at) if last else None,
                "seconds_to_last_connected": max(s["last_connected_at"] for s in status) - killed_at if done else None,
                "first_attempt_after_s": first_try - killed_at,
                "resumes_per_s": done / (last - first_try) if last and last > first_try else None,
                "tries_max": max(s["tries_max"] for s in status),
                "lost_again": sum(s["lost_after_storm"] for s in status),
                "survivor_cpu_pct": 100 * survivor_cpu / storm_s,
                # The cost, which a loaded machine distorts less than the rate: the survivor's CPU above its rate before
                # the kill (the message flow, heartbeats), per client back.
                "survivor_baseline_cpu_pct": 100 * baseline_cpu_per_s,
                "survivor_cpu_ms_per_resume": (
                    1000 * max(0.0, survivor_cpu - baseline_cpu_per_s * storm_s) / done if done else None
                ),
                "gen_cpu_s": sum(s["cpu_s"] for s in status),
                "phases_ms": _phase_summary(status),
            }
        )
        if track:
            quiet = pool.ask_all("quiet")
            time.sleep(1.5)  # the last messages in flight arrive
            checks = pool.ask_all("check")
            out.update(
                {
                    "sent": sum(q["sent"] for q in quiet),
                    "skipped_while_away": sum(q["skipped"] for q in quiet),
                    "gaps": sum(c["gaps"] for c in checks),
                    "repeats": sum(c["repeats"] for c in checks),
                    "clients_with_gaps": sum(c["clients_with_gaps"] for c in checks),
                    "rooms_disagreeing": sum(c["rooms_disagreeing"] for c in checks),
                    "not_back": sum(c["not_back"] for c in checks),
                    "highest_seq": max(c["highest_seq"] for c in checks),
                }
            )
            out["gap_free"] = done == lost and not out["gaps"] and not out["repeats"] and not out["rooms_disagreeing"]
        log(
            f"  storm {system.name} ({mode}): {lost} clients lost with the node; {done} "
            f"{'caught up' if resumes else 'reconnected'}, the last {_s(out['seconds_to_last'])} after the kill, "
            f"{_n(out['resumes_per_s'])}/s"
            + (
                f"; gaps {out['gaps']}, repeats {out['repeats']}, rooms disagreeing {out['rooms_disagreeing']}"
                if track
                else ""
            )
        )
        return out
    finally:
        if pool is not None:
            pool.close()
        deployment.stop()


def _wait_caught_up(pool: GenPool, killed_at: float, log: Any, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Poll until every client of the dead node is back (and, for Helpline, caught up), or the timeout."""
    while True:
        time.sleep(0.2)
        status = pool.ask_all("status")
        lost, done = sum(s["lost"] for s in status), sum(s["done"] for s in status)
        waited = time.monotonic() - killed_at
        if (lost and done == lost and waited > 1.0) or waited > timeout_s:
            if done < lost:
                log(f"    only {done} of {lost} back after {timeout_s:.0f}s")
            return status


def _phase_summary(status: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for phase in ("connect", "hello", "join"):
        values = sorted(v for s in status for v in s["phases_ms"][phase])
        if values:
            out[phase] = {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "max": values[-1]}
    return out


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}s"


def _n(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"
