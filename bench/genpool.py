"""The load-generator processes, driven together: connect their shares of a plan, run a step, collect answers."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any, Callable

from bench import loadgen
from bench.systems import Deployment, Room


class GenPool:
    def __init__(self, processes: int, adapter: str, target: Callable[..., None] = loadgen.main) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=target, args=(child, adapter), daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def ask_all(self, command: str, args: list[dict[str, Any]] | dict[str, Any] | None = None) -> list[Any]:
        per = args if isinstance(args, list) else [args or {}] * len(self.pipes)
        for pipe, a in zip(self.pipes, per):
            pipe.send((command, a))
        return [pipe.recv() for pipe in self.pipes]

    def connect_rooms(self, deployment: Deployment, rooms: list[Room], concurrency: int = 100) -> dict[str, Any]:
        """Rooms go whole to one generator; a room's members alternate between the nodes."""
        nodes = deployment.nodes
        plans: list[list[dict[str, Any]]] = [[] for _ in self.pipes]
        for i, room in enumerate(rooms):
            plan = plans[i % len(plans)]
            for j, tok in enumerate(room.tokens):
                node = nodes[(i + j) % len(nodes)]
                plan.append(
                    {
                        "room_index": i,
                        "room": room.id,
                        "host": "127.0.0.1",
                        "port": node.port,
                        "token": tok,
                        "sender": j == 0,
                        "position": j,
                    }
                )
        answers = self.ask_all("connect", [{"plan": p, "concurrency": concurrency} for p in plans])
        return {
            "connected": sum(a["connected"] for a in answers),
            "errors": sum(a["errors"] for a in answers),
            "handshake_retries": sum(a.get("handshake_retries", 0) for a in answers),
            "first_errors": [e for a in answers for e in a["first_errors"]][:3],
            "seconds": max(a["seconds"] for a in answers),
            "senders": [len(p) and sum(s["sender"] for s in p) for p in plans],
        }

    def cpu_s(self) -> float:
        return sum(a["cpu_s"] for a in self.ask_all("cpu"))

    def close(self) -> None:
        try:
            self.ask_all("close")
            self.ask_all("exit")
        except (EOFError, OSError, BrokenPipeError):
            pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
