"""A real Redis Cluster for tests: three primaries and three replicas of Debian's redis-server with
`--cluster-enabled yes` on free loopback ports, joined by `redis-cli --cluster create`; the test may reshard slots
(`redis-cli --cluster reshard`) and kill a primary so that its replica is promoted."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

import redis

from tests.cluster_start import cluster_port, create, node_flags
from tests.scaleout.processes import PrivateRedis
from tests.services import unavailable

NODE_TIMEOUT_MS = 1000  # how long a primary may be silent before the others fail it over


class ClusterDeployment:
    def __init__(self, directory: Path, primaries: int = 3) -> None:
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            unavailable("redis-server / redis-cli are not installed: the Redis Cluster tests need their own servers")
        self.cli = str(shutil.which("redis-cli"))
        self.servers: list[PrivateRedis] = []
        for index in range(primaries * 2):
            folder = directory / f"node-{index}"
            folder.mkdir()
            server = PrivateRedis(folder, durable=False)
            port = cluster_port()
            server.args[server.args.index(str(server.port))] = str(port)
            server.port, server.url = port, f"redis://127.0.0.1:{port}/0"
            server.args += node_flags(folder) + [
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--cluster-replica-validity-factor",
                "0",  # a replica may always take over, however long it was cut off
            ]
            self.servers.append(server)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{s.port}" for s in self.servers[:3])

    def start(self) -> "ClusterDeployment":
        for server in self.servers:
            server.start()
        create([s.port for s in self.servers], self.cli)
        self.until_healthy()
        return self

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=2)

    def live_ports(self) -> list[int]:
        return [s.port for s in self.servers if s.process is not None and s.process.poll() is None]

    def info(self, port: int) -> dict[str, str]:
        client = self._client(port)
        try:
            text = client.execute_command("CLUSTER", "INFO")
            text = text.decode() if isinstance(text, bytes) else text
            return dict(line.split(":", 1) for line in text.split() if ":" in line)
        finally:
            client.close()

    def until_healthy(self, timeout: float = 30.0) -> None:
        """Every live node says the cluster is ok, all slots served, and every primary has a replica in sync."""

        def healthy() -> bool:
            try:
                if not all(self.info(p).get("cluster_state") == "ok" for p in self.live_ports()):
                    return False
                return all(self._replicas_in_sync(p) for p in self.primary_ports())
            except redis.RedisError:
                return False

        self.wait_until(healthy, "the Redis Cluster did not become healthy", timeout)

    def _replicas_in_sync(self, port: int) -> bool:
        client = self._client(port)
        try:
            info = client.info("replication")
            return any(
                isinstance(v, dict) and v.get("state") == "online" for k, v in info.items() if k.startswith("slave")
            )
        finally:
            client.close()

    def primary_ports(self) -> list[int]:
        ports = []
        for port in self.live_ports():
            client = self._client(port)
            try:
                if client.execute_command("ROLE")[0] in (b"master", "master"):
                    ports.append(port)
            except redis.RedisError:
                pass
            finally:
                client.close()
        return ports

    def calls(self, command: str, ports: list[int] | None = None) -> int:
        """How many times the nodes (every live one, or these) ran a command (INFO commandstats: `spublish`,
        `command|getkeys`), since they started."""
        total = 0
        for port in self.live_ports() if ports is None else ports:
            client = self._client(port)
            try:
                stats = client.info("commandstats").get(f"cmdstat_{command}")
            finally:
                client.close()
            total += int(stats["calls"]) if isinstance(stats, dict) else 0
        return total

    def replica_of(self, port: int) -> int:
        """The port of the (first) replica of the primary on this port."""
        client = self._client(port)
        try:
            info = client.info("replication")
        finally:
            client.close()
        return next(int(v["port"]) for k, v in sorted(info.items()) if k.startswith("slave") and isinstance(v, dict))

    def owner_of(self, key: str) -> int:
        """The port of the primary serving the key's slot now."""
        any_port = self.live_ports()[0]
        client = self._client(any_port)
        try:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(primary[1])
        finally:
            client.close()
        raise LookupError(key)

    def slots_of(self, port: int) -> list[int]:
        """The slots the primary on this port serves, lowest first."""
        client = self._client(self.live_ports()[0])
        try:
            ranges = client.execute_command("CLUSTER", "SLOTS")
        finally:
            client.close()
        return sorted(s for start, end, primary, *_ in ranges if int(primary[1]) == port for s in range(start, end + 1))

    def node_id(self, port: int) -> str:
        client = self._client(port)
        try:
            node = client.execute_command("CLUSTER", "MYID")
            return node.decode() if isinstance(node, bytes) else str(node)
        finally:
            client.close()

    def reshard(self, source_port: int, target_port: int, slots: int) -> None:
        """Move `slots` slots (their keys, live) from one primary to another, as an operator would."""
        subprocess.run(
            [
                self.cli,
                "--cluster",
                "reshard",
                f"127.0.0.1:{source_port}",
                "--cluster-from",
                self.node_id(source_port),
                "--cluster-to",
                self.node_id(target_port),
                "--cluster-slots",
                str(slots),
                "--cluster-yes",
                "--cluster-pipeline",
                "10",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def kill(self, port: int) -> PrivateRedis:
        server = next(s for s in self.servers if s.port == port)
        server.kill()
        return server

    def wait_until(self, condition: Callable[[], bool], failure: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(failure)
            time.sleep(0.1)

    def stop(self) -> None:
        for server in self.servers:
            server.kill()
