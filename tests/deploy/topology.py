"""The production topology for tests, without containers: HAProxy (deploy/haproxy.cfg itself) in front of two
`helpline gateway` processes on Redis and PostgreSQL, plus `helpline worker`.

It offers what the chaos clients and checker ask of a deployment (`pick_node`, `live_nodes`, `database_url`):
here there is one entry point, the balancer, as a browser would see it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from random import Random

import httpx

from tests.scaleout.cluster import Cluster
from tests.services import ROOT, Gateway, free_port, unavailable

HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
DRAIN_S = 2.0
STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class Entry:
    """The balancer as the clients' one node."""

    name: str
    url: str
    ws_url: str


def haproxy_binary() -> str:
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if binary is None:
        unavailable("haproxy is not installed (make test installs Debian's: the system-packages target)")
    return str(binary)


class HAProxy:
    """A real haproxy process running deploy/haproxy.cfg, its addresses given through the environment."""

    def __init__(self, gateways: list[Gateway]) -> None:
        self.binary = haproxy_binary()
        self.port, self.stats_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HELPLINE_LB_BIND": f"127.0.0.1:{self.port}",
            "HELPLINE_LB_STATS": f"127.0.0.1:{self.stats_port}",
            **{f"HELPLINE_GATEWAY{i}": f"127.0.0.1:{g.port}" for i, g in enumerate(gateways, 1)},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, "-c", "-f", str(HAPROXY_CFG)], env=self.env, capture_output=True, text=True, timeout=30
        )

    def start(self) -> "HAProxy":
        self.process = subprocess.Popen([self.binary, "-db", "-f", str(HAPROXY_CFG)], env=self.env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{self.stats_port}/stats", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not come up")

    async def server_states(self) -> dict[str, tuple[str, int]]:
        """Each gateway's state as the balancer sees it ("UP", "DOWN", ...) and its current sessions."""
        async with httpx.AsyncClient(timeout=3) as http:
            text = (await http.get(f"http://127.0.0.1:{self.stats_port}/stats;csv")).text
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {
            row["svname"]: (row["status"], int(row["scur"] or 0))
            for row in rows
            if row["pxname"] == "gateways" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    async def until_up(self, server: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while (await self.server_states()).get(server, ("",))[0] != "UP":
            assert time.monotonic() < deadline, f"haproxy did not see {server} up within {timeout}s"
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Topology:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.database_url = cluster.database_url
        cluster.env["HELPLINE_DRAIN_S"] = str(DRAIN_S)
        cluster.env["HELPLINE_MAX_CONNECTIONS_PER_USER"] = "50"
        self.gateways = [Gateway(cluster.database_url, cluster.redis_url, **cluster.env) for _ in range(2)]
        cluster.nodes += self.gateways  # stopped with the cluster
        self.haproxy = HAProxy(self.gateways)
        self.entry = Entry("haproxy", self.haproxy.url, f"ws://127.0.0.1:{self.haproxy.port}/ws")
        self.exit_codes: list[int | None] = []

    async def start(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(g.start) for g in self.gateways))
        self.cluster.worker()
        self.haproxy.start()
        for i in range(len(self.gateways)):
            await self.haproxy.until_up(f"gateway{i + 1}")

    def stop(self) -> None:
        self.haproxy.stop()

    # -- what the chaos clients and the checker use -----------------------------------------------------------
    def pick_node(self, rng: Random) -> Entry:
        return self.entry

    def live_nodes(self) -> list[Entry]:
        return [self.entry]

    # -- the rolling restart ----------------------------------------------------------------------------------
    async def restart(self, index: int) -> int | None:
        """SIGTERM one gateway, wait until it exited, start it again, wait until the balancer sends to it."""
        gateway = self.gateways[index]
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGTERM)
        try:  # compose's stop_grace_period: far more than the drain needs, then the supervisor's SIGKILL
            code = await asyncio.to_thread(gateway.process.wait, STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            gateway.kill()
            code = gateway.process.returncode
        self.exit_codes.append(code)
        await asyncio.to_thread(gateway.start)
        await self.haproxy.until_up(f"gateway{index + 1}")
        return code

    async def worker_lag(self) -> float | None:
        async with httpx.AsyncClient(timeout=3) as http:
            text = (await http.get(self.entry.url + "/metrics")).text
        return next(
            (float(line.split()[1]) for line in text.splitlines() if line.startswith("helpline_worker_lag ")), None
        )
