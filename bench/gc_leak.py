"""What refreezing would leak (helpline/collector.py `Refreezer`): a gateway refreezing every second takes churn of
every kind (connect, hello, join, send and close; abrupt drops; bad frames; bad tokens; refused joins; frame rate
limits), then its gc probe (bench/gc_probe, the `.leak` trigger) counts the cyclic garbage only an unfrozen full
collection finds: what the policy kept from the collector. The same count before the churn (start-up's own frozen
garbage) is subtracted. Also: what an automatic full collection walks with connections open, with and without it.

    bench/.venv/bin/python -m bench.gc_leak [--churn 2000] [--open 1000] [--systems helpline-memory helpline]
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.env import RedisServer
from bench.idle import _with_gc_probe, ask_gc_probe
from bench.systems import Helpline, Room

KINDS = ("normal", "abrupt", "bad_frame", "bad_token", "refused_join", "rate_limited", "no_hello")


class Probed(Helpline):
    """Helpline refreezing every second (so every churned object is frozen as early as it can be), full collections
    by the policy never, and frame limits low enough to be hit."""

    def __init__(self, memory: bool, refreeze_s: float) -> None:
        super().__init__(memory=memory)
        self.refreeze_s = refreeze_s

    def env(self, redis: RedisServer | None, database_url: str, port: int) -> dict[str, str]:
        env = super().env(redis, database_url, port)
        env.update(
            HELPLINE_GC_REFREEZE_S=str(self.refreeze_s),
            HELPLINE_GC_FULL_COLLECTION_S="1e9",
            HELPLINE_FRAME_RATE_PER_S="20",
            HELPLINE_FRAME_BURST="20",
        )
        return env


def leak(pid: int, timeout_s: float = 60.0) -> dict[str, Any]:
    result = ask_gc_probe(pid, "leak", "leak.json", timeout_s)
    if result is None:
        raise RuntimeError("the gc probe did not answer")
    return result


async def _frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any] | None:
    try:
        return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]
    except Exception:
        return None


async def _until(ws: ClientConnection, type_: str) -> None:
    for _ in range(50):
        frame = await _frame(ws)
        if frame is None or frame.get("type") == type_:
            return


async def one(url: str, kind: str, room: Room, other: Room, i: int) -> None:
    async with connect(url, max_size=None, open_timeout=30) as ws:
        if kind == "no_hello":
            return
        token = "not-a-token" if kind == "bad_token" else room.tokens[0]
        await ws.send(json.dumps({"type": "hello", "token": token}))
        await _until(ws, "welcome")
        if kind == "bad_token":
            await _frame(ws, 2)
            return
        ticket = other.id if kind == "refused_join" else room.id
        await ws.send(json.dumps({"type": "join", "ticket": ticket}))
        await _until(ws, "error" if kind == "refused_join" else "joined")
        if kind == "bad_frame":
            await ws.send("{not json")
            await ws.send(json.dumps({"type": "no-such-type"}))
            await _frame(ws, 2)
        elif kind == "rate_limited":
            for n in range(60):
                await ws.send(json.dumps({"type": "typing", "ticket": room.id}))
            await _frame(ws, 2)
        elif kind in ("normal", "abrupt"):
            body = f"churn {i}"
            await ws.send(json.dumps({"type": "send", "ticket": room.id, "client_id": f"g{i}", "body": body}))
            await _until(ws, "ack")
        if kind == "abrupt":
            ws.transport.abort()  # no close frame: the server finds the connection lost


async def churn(port: int, rooms: list[Room], count: int, concurrency: int = 50) -> dict[str, int]:
    url = f"ws://127.0.0.1:{port}/ws"
    gate = asyncio.Semaphore(concurrency)
    errors: dict[str, int] = {}

    async def slot(i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        async with gate:
            try:
                await one(url, kind, rooms[i % len(rooms)], rooms[(i + 1) % len(rooms)], i)
            except Exception as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    await asyncio.gather(*(slot(i) for i in range(count)))
    return errors


async def hold_open(port: int, rooms: list[Room], count: int) -> list[ClientConnection]:
    url = f"ws://127.0.0.1:{port}/ws"
    gate = asyncio.Semaphore(50)

    async def one_open(i: int) -> ClientConnection:
        async with gate:
            room = rooms[i % len(rooms)]
            ws = await connect(url, max_size=None, open_timeout=30, ping_interval=None)
            await ws.send(json.dumps({"type": "hello", "token": room.tokens[1 + i % (len(room.tokens) - 1)]}))
            await _until(ws, "welcome")
            await ws.send(json.dumps({"type": "join", "ticket": room.id}))
            await _until(ws, "joined")
            return ws

    return list(await asyncio.gather(*(one_open(i) for i in range(count))))


def run(memory: bool, redis: RedisServer, churned: int, opened: int, refreeze_s: float) -> dict[str, Any]:
    system = Probed(memory, refreeze_s)
    redis.flush()
    with _with_gc_probe():
        deployment = system.start(1, redis)
    node = deployment.nodes[0]
    try:
        rooms = system.rooms(deployment, 50, 21)
        time.sleep(2 * refreeze_s)
        before = leak(node.ps.pid)

        async def drive() -> dict[str, Any]:
            print("start-up", {k: v for k, v in before.items() if k != "leaked_types"}, file=sys.stderr, flush=True)
            held = await hold_open(node.port, rooms, opened)
            print("opened", len(held), file=sys.stderr, flush=True)
            await asyncio.sleep(3 * refreeze_s)
            with_open = leak(node.ps.pid)  # the connections' objects were frozen: an automatic one walks only this
            errors = await churn(node.port, rooms, churned)
            print("churned", errors, file=sys.stderr, flush=True)
            await asyncio.sleep(3 * refreeze_s)
            after = leak(node.ps.pid)
            for ws in held:
                ws.transport.abort()  # their frames were never read: a closing handshake would wait on each
            return {"with_open": with_open, "after_churn": after, "client_errors": errors}

        result = asyncio.run(drive())
        leaked = result["after_churn"]["leaked"]  # the trigger before the churn collected what was frozen till then
        return {
            "system": system.name,
            "churned": churned,
            "open": opened,
            "start_up": before,
            **result,
            "leaked_per_1000_churned": leaked * 1000 / churned,
        }
    finally:
        deployment.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--churn", type=int, default=2100, help="connections churned (every kind in turn)")
    parser.add_argument("--open", type=int, default=1000, help="connections held open meanwhile")
    parser.add_argument("--refreeze-s", type=float, default=1.0)
    parser.add_argument("--systems", nargs="+", default=["helpline-memory", "helpline"])
    args = parser.parse_args()
    faulthandler.dump_traceback_later(300, exit=True)  # a hung run says where
    redis = RedisServer()
    try:
        for name in args.systems:
            result = run(name == "helpline-memory", redis, args.churn, args.open, args.refreeze_s)
            print(json.dumps(result, indent=1))
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
