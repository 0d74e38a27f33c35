"""A real Redis Sentinel deployment for tests: one primary, two replicas and three sentinels from Debian's
redis-server / redis-sentinel, on free loopback ports in a temp dir; the test may fail over, kill and stop them."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.scaleout.processes import PrivateRedis
from tests.services import free_port, unavailable

SERVICE = "mymaster"
DOWN_AFTER_MS = 1000  # how long a primary may be silent before the sentinels call it down


class SentinelDeployment:
    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed: the Sentinel tests need their own servers")
        sentinel = shutil.which("redis-sentinel")
        self.sentinel_command = [sentinel] if sentinel else [str(shutil.which("redis-server"))]
        self.sentinel_flag = [] if sentinel else ["--sentinel"]
        self.directory = directory
        self.servers: list[PrivateRedis] = []
        for index in range(3):
            folder = directory / f"redis-{index}"
            folder.mkdir()
            self.servers.append(PrivateRedis(folder, durable=False))
        primary = self.servers[0].port
        for replica in self.servers[1:]:
            replica.args += ["--replicaof", "127.0.0.1", str(primary)]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}?db=0"

    def start(self) -> "SentinelDeployment":
        for server in self.servers:
            server.start()
        for index, port in enumerate(self.sentinel_ports):
            config = self.directory / f"sentinel-{index}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.servers[0].port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SERVICE} 10000\nsentinel parallel-syncs {SERVICE} 2\n"
            )
            self.sentinels.append(
                subprocess.Popen(
                    [*self.sentinel_command, str(config), *self.sentinel_flag],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        self.wait_until(
            lambda: all(
                len(self._ask(p, "SENTINEL", "REPLICAS", SERVICE) or []) == 2
                and self._ask(p, "SENTINEL", "SENTINELS", SERVICE) is not None
                and len(self._ask(p, "SENTINEL", "SENTINELS", SERVICE)) == 2
                for p in self.sentinel_ports
            ),
            "the sentinels did not see the replicas",
        )
        self.until_replicating(2)  # both in sync: a MIN_REPLICAS test's first WAIT must not race the first sync
        return self

    def _ask(self, port: int, *command: str) -> object:
        client = redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=2)
        try:
            return client.execute_command(*command)
        except redis.RedisError:
            return None
        finally:
            client.close()

    def primary(self) -> PrivateRedis:
        """The server the sentinels name as the primary now."""
        for port in self.sentinel_ports:
            address = self._ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
            if address:
                wanted = int(address[1])  # type: ignore[index]
                return next(s for s in self.servers if s.port == wanted)
        raise AssertionError("no sentinel answered")

    def replicas(self) -> list[PrivateRedis]:
        primary = self.primary()
        return [s for s in self.servers if s is not primary]

    def failover(self) -> PrivateRedis:
        """SENTINEL FAILOVER (a planned switch); returns the new primary once every sentinel names it."""
        old = self.primary()
        assert self._ask(self.sentinel_ports[0], "SENTINEL", "FAILOVER", SERVICE)
        return self.until_switched(old)

    def until_switched(self, old: PrivateRedis, timeout: float = 20.0) -> PrivateRedis:
        self.wait_until(
            lambda: self.primary() is not old and self._role(self.primary()) == b"master",
            "the sentinels did not switch the primary",
            timeout,
        )
        return self.primary()

    def _role(self, server: PrivateRedis) -> object:
        reply = self._ask(server.port, "ROLE")
        return reply[0] if reply else None  # type: ignore[index]

    def rejoin(self, server: PrivateRedis) -> None:
        """Restart a killed server as a replica of the primary now (as an operator would, or its config file)."""
        primary = self.primary()
        args = server.args
        if "--replicaof" in args:
            at = args.index("--replicaof")
            args[at : at + 3] = []
        server.args = [*args, "--replicaof", "127.0.0.1", str(primary.port)]
        server.start()

    def until_replicating(self, count: int, timeout: float = 20.0) -> None:
        """Until the primary has `count` replicas online (after a kill, the old primary rejoins as one)."""

        def online() -> bool:
            info = self._ask(self.primary().port, "INFO", "replication")
            assert isinstance(info, dict)
            return (
                sum(
                    1
                    for k, v in info.items()
                    if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
                )
                >= count
            )

        self.wait_until(online, f"the primary never had {count} replicas online", timeout)

    @staticmethod
    def wait_until(condition: "object", what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():  # type: ignore[operator]
                    return
            except (redis.RedisError, StopIteration, AssertionError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(what)
            time.sleep(0.1)

    def stop(self) -> None:
        for sentinel in self.sentinels:
            if sentinel.poll() is None:
                sentinel.kill()
                sentinel.wait()
        for server in self.servers:
            server.kill()
