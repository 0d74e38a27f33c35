"""The deployment under test: gateway nodes on fixed ports, the persistence worker, a private Redis (AOF,
appendfsync always) and PostgreSQL behind an outage proxy. Every fault the injector uses lives here."""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.chaos.proxy import OutageProxy
from tests.scaleout.processes import PrivateRedis, Worker
from tests.services import ROOT, Gateway

HEARTBEAT_S = 1.0
PRESENCE_TTL_S = 1.5
START_TIMEOUT_S = 120.0


@dataclass
class Node:
    name: str
    gateway: Gateway
    up: bool = False  # started and not killed since
    stopped: bool = False  # SIGSTOP'd: the process lives, its sockets stay open, nothing answers

    @property
    def ws_url(self) -> str:
        return self.gateway.ws_url

    @property
    def url(self) -> str:
        return self.gateway.url


@dataclass
class Counts:
    node_kills: int = 0
    worker_kills: int = 0
    restarts: int = 0
    sigstops: int = 0
    redis_restarts: int = 0
    postgres_outages: int = 0
    slow_client_cutoffs: int = 0
    log: list[str] = field(default_factory=list)


class Deployment:
    def __init__(self, database_url: str, redis: PrivateRedis, proxy: OutageProxy, nodes: int, tmp: Path) -> None:
        self.redis = redis
        self.proxy = proxy
        self.database_url = database_url
        self.prefix = f"hlchaos-{secrets.token_hex(4)}"
        env = {
            "HELPLINE_KEY_PREFIX": self.prefix,
            "HELPLINE_HEARTBEAT_S": str(HEARTBEAT_S),
            "HELPLINE_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
            "HELPLINE_TYPING_TTL_S": "3",
            "HELPLINE_FRAME_RATE_PER_S": "100000",
            "HELPLINE_FRAME_BURST": "100000",
            "HELPLINE_HTTP_WRITE_RATE_PER_S": "100000",
            "HELPLINE_HTTP_WRITE_BURST": "100000",
            "HELPLINE_WORKER_CLAIM_IDLE_S": "1",
            "HELPLINE_MAX_CONNECTIONS_PER_USER": "50",
            "HELPLINE_ATTACHMENTS_DIR": str(tmp / "attachments"),
        }
        self.env = env
        self.nodes = [Node(f"node{i}", Gateway(database_url, redis.url, **env)) for i in range(nodes)]
        self.worker = Worker(database_url, redis.url, self.prefix, **env)
        self.worker_up = False
        self.counts = Counts()

    # -- life cycle --------------------------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.gather(*(self.start_node(n) for n in self.nodes))
        self.start_worker()

    async def start_node(self, node: Node) -> None:
        """Start the node's process and wait for /healthz; generous, as a loaded machine starts Python slowly."""
        gateway = node.gateway
        gateway.process = subprocess.Popen([sys.executable, "-m", "helpline.cli", "gateway"], env=gateway.env, cwd=ROOT)
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                if gateway.process.poll() is not None:
                    raise RuntimeError(f"{node.name} exited with {gateway.process.returncode}")
                try:
                    if (await http.get(gateway.url + "/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"{node.name} did not come up within {START_TIMEOUT_S}s")
                await asyncio.sleep(0.1)
        node.up, node.stopped = True, False

    def start_worker(self) -> None:
        self.worker.start()
        self.worker_up = True

    def stop(self) -> None:
        for node in self.nodes:
            if node.stopped and node.gateway.process:
                node.gateway.process.send_signal(signal.SIGCONT)
        self.worker.stop()
        for node in self.nodes:
            node.gateway.stop()

    def live_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.up]

    def pick_node(self, rng: random.Random) -> Node | None:
        """What a round-robin load balancer with health checks would give: any node whose process runs."""
        live = self.live_nodes()
        return rng.choice(live) if live else None

    # -- faults ------------------------------------------------------------------------------------------------
    def kill_node(self, node: Node) -> None:
        node.up = False
        node.gateway.kill()  # SIGKILL: no goodbye to clients, no presence leave, nothing flushed
        self.counts.node_kills += 1

    async def restart_node(self, node: Node) -> None:
        await self.start_node(node)
        self.counts.restarts += 1

    def kill_worker(self) -> None:
        self.worker_up = False
        self.worker.kill()
        self.counts.worker_kills += 1

    def restart_worker(self) -> None:
        self.start_worker()
        self.counts.restarts += 1

    def sigstop(self, node: Node) -> None:
        assert node.gateway.process is not None
        node.gateway.process.send_signal(signal.SIGSTOP)
        node.stopped = True
        self.counts.sigstops += 1

    def sigcont(self, node: Node) -> None:
        assert node.gateway.process is not None
        node.gateway.process.send_signal(signal.SIGCONT)
        node.stopped = False

    async def restart_redis(self, down_s: float) -> None:
        self.redis.kill()  # kill -9: only what appendfsync always put on disk survives
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.redis.start)
        self.counts.redis_restarts += 1

    async def postgres_outage(self, down_s: float) -> None:
        await self.proxy.down()
        await asyncio.sleep(down_s)
        await self.proxy.up()
        self.counts.postgres_outages += 1

    # -- observation -------------------------------------------------------------------------------------------
    async def worker_lag(self) -> float | None:
        """helpline_worker_lag as a live node exports it (refreshed every 2 s)."""
        for node in self.live_nodes():
            try:
                async with httpx.AsyncClient(timeout=3) as http:
                    text = (await http.get(node.url + "/metrics")).text
                return next(
                    float(line.split()[1]) for line in text.splitlines() if line.startswith("helpline_worker_lag ")
                )
            except (httpx.HTTPError, StopIteration):
                continue
        return None

    async def until_caught_up(self, timeout: float = 60.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.worker_lag() == 0:
                return True
            await asyncio.sleep(0.5)
        return False
