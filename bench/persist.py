"""Workload 3, persistence: `helpline worker` drains a backlog from the Redis stream into PostgreSQL, then keeps
up with a steady offered rate; compared with a bare batched idempotent insert (unnest + ON CONFLICT DO NOTHING)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis

from bench.env import PROJECT_BIN, PgDatabase, Proc, RedisServer, free_port
from bench.systems import Helpline

STREAM = "bench:persist"  # the Redis bus layout under key prefix "bench"
GROUP = "persisters"
TICKETS = 200
_encode = msgspec.msgpack.encode


def _draft(ticket: str, n: int, now: str) -> bytes:
    # The bus's Draft struct as msgpack (realtime/bus/redis/layout.py), field for field.
    return _encode(
        {
            "ticket": ticket,
            "client_id": f"p{n}",
            "author": {"id": "c", "name": "c", "role": "customer"},
            "body": ("persist %d " % n).ljust(100, "x"),
            "internal": False,
            "created_at": now,
        }
    )


async def _fill(r: aioredis.Redis, start: int, count: int) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for base in range(start, start + count, 1000):
        pipe = r.pipeline(transaction=False)
        for n in range(base, min(base + 1000, start + count)):
            pipe.xadd(STREAM, {"t": f"t{n % TICKETS}", "s": n // TICKETS + 1, "d": _draft(f"t{n % TICKETS}", n, now)})
        await pipe.execute()


async def _lag(r: aioredis.Redis) -> int:
    try:
        groups = await r.xinfo_groups(STREAM)
    except Exception:
        return -1
    for g in groups:
        if g["name"] in (GROUP, GROUP.encode()):
            return int(g.get("pending") or 0) + int(g.get("lag") or 0)
    return -1


async def _tickets(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(timezone.utc)
        await conn.executemany(
            "INSERT INTO tickets (id, customer_id, customer_name, subject, category, status, plan, priority, "
            "created_at, updated_at, last_seq) VALUES ($1, 'c', 'c', 'bench', 'question', 'open', 'pro', 3, $2, $2, 0)",
            [(f"t{i}", now) for i in range(TICKETS)],
        )
    finally:
        await conn.close()


async def _drain_and_steady(
    redis_url: str, worker: Proc, backlog: int, steady_rate: int, steady_s: float, log: Any
) -> dict[str, Any]:
    r = aioredis.from_url(redis_url)
    started = time.monotonic()
    while await _lag(r) != 0 or time.monotonic() - started < 0.5:
        if time.monotonic() - started > 600:
            raise TimeoutError("the worker did not drain the backlog in 10 minutes")
        await asyncio.sleep(0.05)
    drain_s = time.monotonic() - started
    cpu_drain = worker.cpu_s()
    log(f"  worker drained {backlog} messages in {drain_s:.1f}s: {backlog / drain_s:.0f}/s")
    # Steady offered rate: add in 50 ms slices, sample the lag.
    lags: list[int] = []
    sent, t0 = 0, time.monotonic()
    cpu0 = worker.cpu_s()
    while (elapsed := time.monotonic() - t0) < steady_s:
        due = int(steady_rate * elapsed) - sent
        if due > 0:
            await _fill(r, backlog + sent, due)
            sent += due
        lags.append(await _lag(r))
        await asyncio.sleep(0.05)
    steady_cpu = worker.cpu_s() - cpu0
    wall = time.monotonic() - t0
    catch = time.monotonic()
    while await _lag(r) != 0 and time.monotonic() - catch < 30:
        await asyncio.sleep(0.05)
    await r.aclose()
    return {
        "backlog": backlog,
        "drain_s": drain_s,
        "drain_per_s": backlog / drain_s,
        "drain_worker_cpu_s": cpu_drain,
        "steady_offered_per_s": steady_rate,
        "steady_achieved_per_s": sent / wall,
        "steady_lag_max": max(lags) if lags else None,
        "steady_lag_mean": sum(lags) / len(lags) if lags else None,
        "steady_lag_max_s": (max(lags) / steady_rate) if lags else None,
        "steady_worker_cpu_pct": 100 * steady_cpu / wall,
    }


async def _bare_insert(dsn: str, rows: int) -> dict[str, Any]:
    """The floor: 1,000 rows a statement, one transaction each, idempotent on (ticket_id, seq)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE messages")
        now = datetime.now(timezone.utc)
        batches = []
        for base in range(0, rows, 1000):
            ns = range(base, min(base + 1000, rows))
            batches.append(
                (
                    [f"t{n % TICKETS}" for n in ns],
                    [n // TICKETS + 1 for n in ns],
                    [f"p{n}" for n in ns],
                    ["c"] * len(ns),
                    ["c"] * len(ns),
                    ["customer"] * len(ns),
                    [("persist %d " % n).ljust(100, "x") for n in ns],
                    [False] * len(ns),
                    [now] * len(ns),
                )
            )
        sql = (
            "INSERT INTO messages (ticket_id, seq, client_id, author_id, author_name, author_role, body, internal, "
            "created_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], "
            "$6::text[], $7::text[], $8::bool[], $9::timestamptz[]) ON CONFLICT DO NOTHING"
        )
        t0 = time.monotonic()
        for b in batches:
            await conn.execute(sql, *b)
        seconds = time.monotonic() - t0
        return {"rows": rows, "seconds": seconds, "per_s": rows / seconds}
    finally:
        await conn.close()


def run(redis: RedisServer, backlog: int, steady_rate: int, steady_s: float, log: Any = print) -> dict[str, Any]:
    redis.flush()
    db = PgDatabase()
    worker: Proc | None = None
    try:
        asyncio.run(_tickets(db.dsn))

        async def fill() -> None:
            r = aioredis.from_url(redis.url)
            await _fill(r, 0, backlog)
            await r.aclose()

        t0 = time.monotonic()
        asyncio.run(fill())
        log(f"  {backlog} messages on the stream in {time.monotonic() - t0:.1f}s; starting the worker")
        worker = Proc(
            "helpline-worker", [str(PROJECT_BIN / "helpline"), "worker"], env=Helpline().env(redis, db.url, free_port())
        )
        result = asyncio.run(_drain_and_steady(redis.url, worker, backlog, steady_rate, steady_s, log))
        worker.stop()
        worker = None
        result["bare_insert"] = asyncio.run(_bare_insert(db.dsn, backlog))
        log(
            f"  bare unnest insert: {result['bare_insert']['per_s']:.0f} rows/s; steady {steady_rate}/s: "
            f"max lag {result['steady_lag_max']} messages"
        )
        return result
    finally:
        if worker is not None:
            worker.stop()
        db.drop()
