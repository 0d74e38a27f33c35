"""How a private Redis Cluster is started, one way for the tests (tests/scaleout/redis_cluster.py) and the bench
(bench/env.py): free ports whose cluster-bus port is free too, each node's cluster flags, and `redis-cli --cluster
create` joining them with one replica per primary. Standard library only: the bench's own environment imports it
without the project's dependencies; each side runs and measures its processes its own way."""

from __future__ import annotations

import random
import socket
import subprocess
from pathlib import Path


def cluster_port() -> int:
    """A free port below 55536 whose cluster-bus port (10000 above) is free too, as a cluster node needs."""
    while True:
        port = random.randint(20000, 55000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


def node_flags(folder: Path) -> list[str]:
    """redis-server's flags that make it a cluster node keeping its cluster state in `folder`."""
    return ["--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf")]


def create(ports: list[int], cli: str = "redis-cli", replicas: int = 1) -> None:
    """Join the running nodes into one cluster: with one replica each, the first half are primaries; with none, all."""
    subprocess.run(
        [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas", str(replicas)]
        + ["--cluster-yes"],
        check=True,
        capture_output=True,
        timeout=60,
    )
