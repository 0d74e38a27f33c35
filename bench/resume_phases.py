"""What one resume costs the server, phase by phase: the WebSocket connect, the hello, the join (with and without
`since`), against the bare server's plain connect, in the same run.

The storm (bench/storm.py) gives the rate and the CPU per client back, all phases together and on a machine the
storm's own clients load. Here each phase is run on its own: N clients (held open, `--concurrency` at a time) do
connect, or connect + hello, or connect + hello + join, and the node's CPU above its idle rate is divided by N; the
closes are measured apart. One Helpline node on Redis and PostgreSQL with its worker, as in the fan-out; the tickets
have `--members` members each, and every phase runs twice, the first a warm-up (so the joins find their tickets
seeded, as the storm's resumes do). Usage: `python -m bench.resume_phases [--clients 3000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.env import Proc, RedisServer
from bench.systems import Bare, Helpline, Room, System
from bench.wsclient import WSClient

PHASES = {"connect": 0, "hello": 1, "join": 2, "join with since": 3, "resume (join with since behind the hello)": 4}


async def _open(port: int, rooms: list[Room], phase: int, clients: int, concurrency: int) -> list[WSClient]:
    gate = asyncio.Semaphore(concurrency)
    opened: list[WSClient] = []

    async def one(i: int) -> None:
        room = rooms[i % len(rooms)] if rooms else None
        answer: asyncio.Future[bytes] | None = None

        def on_text(ws: WSClient, frame: bytes) -> None:
            if answer is not None and not answer.done():
                answer.set_result(frame)

        async def ask(frames: list[dict[str, Any]], until: bytes) -> None:
            nonlocal answer
            for frame in frames:
                ws.send_text(json.dumps(frame))
            while True:
                answer = asyncio.get_running_loop().create_future()
                if (await asyncio.wait_for(answer, 10)).startswith(until):
                    return

        async with gate:
            ws = await WSClient.connect("127.0.0.1", port, "/ws", on_text)
            try:
                hello = {"type": "hello", "token": room.tokens[i % len(room.tokens)]} if room is not None else {}
                if phase == 4 and room is not None:  # as client.js resumes: one round trip
                    await ask([hello, {"type": "join", "ticket": room.id, "since": 1}], b'{"type":"joined"')
                elif phase >= 1 and room is not None:
                    await ask([hello], b'{"type":"welcome"')
                if phase in (2, 3) and room is not None:
                    since = {"since": 1} if phase == 3 else {}
                    await ask([{"type": "join", "ticket": room.id, **since}], b'{"type":"joined"')
            except BaseException:
                ws.close()
                raise
            opened.append(ws)

    await asyncio.gather(*(one(i) for i in range(clients)))
    return opened


async def _phase_cost(node: Proc, rooms: list[Room], phase: int, clients: int, concurrency: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for warm_up in (True, False):
        idle0 = node.cpu_s()
        await asyncio.sleep(1.0)
        idle_per_s = node.cpu_s() - idle0
        cpu0, t0 = node.cpu_s(), time.monotonic()
        opened = await _open(node.port or 0, rooms, phase, clients, concurrency)
        elapsed, cpu1 = time.monotonic() - t0, node.cpu_s()
        for ws in opened:
            ws.close()
        await asyncio.sleep(1.5)  # the server's side of every close
        cpu2 = node.cpu_s()
        if not warm_up:
            out = {
                "ms_per_client": 1000 * (cpu1 - cpu0 - idle_per_s * elapsed) / clients,
                "close_ms_per_client": 1000 * (cpu2 - cpu1 - idle_per_s * 1.5) / clients,
            }
    return out


def measure(system: System, phases: list[int], clients: int, members: int, concurrency: int) -> dict[int, Any]:
    redis = RedisServer()
    try:
        deployment = system.start(1, redis)
        try:
            rooms = system.rooms(deployment, max(1, clients // members), members) if phases != [0] else []
            node = deployment.nodes[0]
            return {p: asyncio.run(_phase_cost(node, rooms, p, clients, concurrency)) for p in phases}
        finally:
            deployment.stop()
    finally:
        redis.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resume_phases", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--members", type=int, default=5, help="members per ticket")
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    bare = measure(Bare(), [0], args.clients, args.members, args.concurrency)[0]
    helpline = measure(Helpline(), list(PHASES.values()), args.clients, args.members, args.concurrency)
    print(f"server CPU per client, ms ({args.clients} clients, {args.members} members a ticket; closes apart)")
    print(f"  bare server, connect: {bare['ms_per_client']:.3f} (close {bare['close_ms_per_client']:.3f})")
    previous = 0.0
    for name, phase in PHASES.items():
        cost = helpline[phase]["ms_per_client"]
        base = helpline[PHASES["hello"]]["ms_per_client"] if phase >= 3 else previous
        print(
            f"  Helpline, up to {name}: {cost:.3f} (this phase {cost - base:.3f}; "
            f"close {helpline[phase]['close_ms_per_client']:.3f})"
        )
        previous = cost if phase < 2 else previous
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
