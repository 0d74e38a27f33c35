"""Every system under test: how to start its nodes, and how a room and its members' tokens come to exist.

Helpline runs from the project's .venv exactly as deployed (`helpline gateway`, `helpline worker`); the bare server
and the peers run from bench/.venv. Rooms of the peers are just names; Helpline's are real tickets.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.env import BENCH_PYTHON, PROJECT_BIN, ROOT, PgDatabase, Proc, RedisServer, free_port

SECRET = "bench-secret-" + "x" * 32


def token(sub: str, role: str = "customer", plan: str = "pro", ttl_s: int = 6 * 3600) -> str:
    claims = {"sub": sub, "name": sub, "role": role, "plan": plan, "exp": int(time.time()) + ttl_s}
    return jwt.encode(claims, SECRET, algorithm="HS256")


@dataclass
class Room:
    id: str
    tokens: list[str]  # member 0 is the customer and the room's sender


@dataclass
class Deployment:
    """A running system: its gateway nodes and helpers (the Helpline worker), all stopped together."""

    system: "System"
    nodes: list[Proc]
    helpers: list[Proc] = field(default_factory=list)
    cleanup: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for p in self.nodes + self.helpers:
            p.stop()
        for fn in self.cleanup:
            fn()


class System:
    name = ""
    label = ""
    adapter = "generic"
    durable = False

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        raise NotImplementedError

    def rooms(self, deployment: Deployment, count: int, size: int) -> list[Room]:
        return [
            Room(f"r{i}", [token(f"c{i}")] + [token(f"a{i}-{j}", "agent") for j in range(1, size)])
            for i in range(count)
        ]

    @staticmethod
    def _peer_env(redis: RedisServer, **extra: str) -> dict[str, str]:
        # A probe folder put first on the bench's own PYTHONPATH (bench/gc_probe, bench/stall_probe) reaches the peers.
        path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), str(ROOT)) if p)
        return {"BENCH_SECRET": SECRET, "BENCH_REDIS_URL": redis.url, "PYTHONPATH": path, **extra}

    @staticmethod
    def _uvicorn(name: str, app: str, env: dict[str, str]) -> Proc:
        port = free_port()
        return Proc(
            name,
            [
                BENCH_PYTHON,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ws",
                os.environ.get("BENCH_UVICORN_WS", "websockets-sansio"),
                "--ws-per-message-deflate",
                "false",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            port=port,
        )


class Bare(System):
    name, label = "bare", "bare websockets + Redis pub/sub"

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        procs = []
        for i in range(nodes):
            port = free_port()
            procs.append(
                Proc(
                    f"bare{i}",
                    [BENCH_PYTHON, "-m", "bench.peers.bare", "--port", str(port)],
                    env=self._peer_env(redis),
                    port=port,
                )
            )
        return Deployment(self, [p.wait_ready() for p in procs])


class SocketIO(System):
    name, label, adapter = "socketio", "python-socketio + AsyncRedisManager", "socketio"

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        procs = [
            self._uvicorn(f"socketio{i}", "bench.peers.socketio_app:app", self._peer_env(redis)) for i in range(nodes)
        ]
        return Deployment(self, [p.wait_ready() for p in procs])


class Channels(System):
    def __init__(self, layer: str) -> None:
        self.layer = layer
        self.name = f"channels-{layer}"
        self.label = f"Django Channels, channels_redis {layer} layer"

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        env = self._peer_env(redis, BENCH_CHANNELS_LAYER=self.layer)
        procs = [self._uvicorn(f"{self.name}{i}", "bench.peers.channels_app:application", env) for i in range(nodes)]
        return Deployment(self, [p.wait_ready() for p in procs])


class Broadcaster(System):
    name, label = "broadcaster", "Starlette + encode/broadcaster (Redis)"

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        procs = [
            self._uvicorn(f"broadcaster{i}", "bench.peers.broadcaster_app:app", self._peer_env(redis))
            for i in range(nodes)
        ]
        return Deployment(self, [p.wait_ready() for p in procs])


class Helpline(System):
    """Helpline on Redis + PostgreSQL with its persistence worker (`memory=False`), or on the embedded default."""

    adapter = "helpline"
    durable = True

    def __init__(self, memory: bool = False, min_replicas: int = 0, where: str = "") -> None:
        self.memory = memory
        self.min_replicas = min_replicas  # HELPLINE_REDIS_MIN_REPLICAS: acked once that many replicas have it
        self.name = "helpline-memory" if memory else "helpline"
        self.label = "Helpline (in-memory bus + SQLite, 1 node)" if memory else "Helpline (Redis bus + PostgreSQL)"
        if where:  # e.g. "cluster": which Redis this run is on, in the name the tables show
            self.name += f"-{where}" + (f"-replicas{min_replicas}" if min_replicas else "")
            self.label = f"Helpline on {where}" + (f", MIN_REPLICAS={min_replicas}" if min_replicas else "")

    def env(self, redis: RedisServer | None, database_url: str, port: int) -> dict[str, str]:
        env = {
            "HELPLINE_SECRET": SECRET,
            "HELPLINE_DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "HELPLINE_KEY_PREFIX": "bench",
            # The load generator is one IP and a few users sending fast: lift the abuse limits, nothing else.
            "HELPLINE_FRAME_RATE_PER_S": "1000000",
            "HELPLINE_HTTP_WRITE_RATE_PER_S": "1000000",
            "HELPLINE_MAX_CONNECTIONS_PER_USER": "1000000",
            "HELPLINE_MAX_CONNECTIONS_PER_IP": "1000000",
            "HELPLINE_CONNECTION_RATE_PER_S": "1000000",
            "HELPLINE_CONNECTION_BURST": "1000000",
        }
        env["HELPLINE_REDIS_URL"] = "" if redis is None or self.memory else redis.url
        if self.min_replicas:
            env["HELPLINE_REDIS_MIN_REPLICAS"] = str(self.min_replicas)
        return env

    def start(self, nodes: int, redis: RedisServer) -> Deployment:
        cleanup: list[Any] = []
        if self.memory:
            folder = tempfile.mkdtemp(prefix="bench-helpline-")
            url = f"sqlite+aiosqlite:///{folder}/helpline.db"
            import subprocess

            subprocess.run(
                [str(PROJECT_BIN / "helpline"), "migrate"],
                check=True,
                capture_output=True,
                cwd=ROOT,
                env={**os.environ, "HELPLINE_DATABASE_URL": url},
            )
            nodes = 1
        else:
            db = PgDatabase()
            cleanup.append(db.drop)
            url = db.url
        procs = []
        for i in range(nodes):
            port = free_port()
            procs.append(
                Proc(
                    f"{self.name}{i}",
                    [str(PROJECT_BIN / "helpline"), "gateway"],
                    env=self.env(redis, url, port),
                    port=port,
                )
            )
        helpers = []
        if not self.memory:
            helpers.append(
                Proc(
                    f"{self.name}-worker",
                    [str(PROJECT_BIN / "helpline"), "worker"],
                    env=self.env(redis, url, free_port()),
                )
            )
        deployment = Deployment(self, [p.wait_ready(60) for p in procs], helpers, cleanup)
        return deployment

    def rooms(self, deployment: Deployment, count: int, size: int) -> list[Room]:
        return asyncio.run(self._open_tickets(deployment, count, size))

    async def _open_tickets(self, deployment: Deployment, count: int, size: int) -> list[Room]:
        gate = asyncio.Semaphore(16)
        ports = [n.port for n in deployment.nodes]

        async def one(client: httpx.AsyncClient, i: int) -> Room:
            customer = token(f"c{i}")
            async with gate:
                r = await client.post(
                    f"http://127.0.0.1:{ports[i % len(ports)]}/api/tickets",
                    headers={"Authorization": f"Bearer {customer}"},
                    json={"subject": f"bench {i}", "body": "benchmark ticket", "client_id": f"bench-{i}"},
                )
            r.raise_for_status()
            ticket = r.json()
            ticket_id = ticket.get("id") or ticket.get("ticket", {}).get("id")
            return Room(ticket_id, [customer] + [token(f"a{i}-{j}", "agent", "free") for j in range(1, size)])

        async with httpx.AsyncClient(timeout=60) as client:
            return list(await asyncio.gather(*(one(client, i) for i in range(count))))


def all_systems() -> list[System]:
    return [
        Helpline(),
        Helpline(memory=True),
        Bare(),
        SocketIO(),
        Channels("pubsub"),
        Channels("classic"),
        Broadcaster(),
    ]


def by_name(names: list[str] | None) -> list[System]:
    systems = all_systems()
    if not names:
        return systems
    known = {s.name: s for s in systems}
    return [known[n] for n in names]


__all__ = ["System", "Deployment", "Room", "all_systems", "by_name", "token", "SECRET", "Path"]
