"""The benchmark's private world: free ports, its own redis-server, its own PostgreSQL database, its processes.

Everything started here is stopped here, by its own pid; nothing touches the shared Redis or other databases.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Sequence

import psutil

from tests.cluster_start import cluster_port, create, node_flags

ROOT = Path(__file__).resolve().parent.parent
BENCH_PYTHON = sys.executable
PROJECT_BIN = ROOT / ".venv" / "bin"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def raise_fd_limit() -> None:
    """Children inherit it: 20,000 idle connections need more descriptors than the default."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (200_000, 65_536, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            return
        except (ValueError, OSError):
            continue


DESCRIPTORS_OF_A_NODE = 250  # a node's own: listening socket, Redis and database pools, files, stdio


def most_connections_per_process() -> int:
    """How many client connections one process can hold here: its hard descriptor limit, less the node's own."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1] - DESCRIPTORS_OF_A_NODE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


RUNNING: list["Proc"] = []


def stop_all() -> None:
    """Stop whatever is still running (the harness calls it on exit and on SIGTERM/SIGINT)."""
    for proc in reversed(list(RUNNING)):
        proc.stop()


def process_cpu_s(ps: psutil.Process) -> float:
    """CPU seconds the process used so far, every thread's (exited ones too), to the nanosecond: its CPU-time clock
    (Linux's clock id for another process's CPU clock: (~pid << 3) | CPUCLOCK_SCHED). /proc's user + system times,
    which psutil reads, count in 10 ms ticks: over a quick 1 s step a node at 7 % was 70 ± 10 ms, and four nodes
    summed four such errors into the figure compared with two nodes'."""
    try:
        return time.clock_gettime((~ps.pid << 3) | 2)
    except (OSError, OverflowError, AttributeError):
        t = ps.cpu_times()
        return t.user + t.system


class Proc:
    """A child process we started, measured by psutil (CPU seconds, RSS), stopped by its own pid."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.port = port
        log_dir = log_dir or Path(tempfile.gettempdir())
        self.log_path = log_dir / f"bench-{name}-{os.getpid()}.log"
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            list(argv),
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.popen.pid)
        RUNNING.append(self)

    def wait_ready(self, timeout: float = 30.0) -> "Proc":
        if self.port is not None:
            try:
                wait_port(self.port, timeout, self.popen)
            except Exception as exc:
                raise RuntimeError(f"{self.name} did not start: {exc}\n{self.tail()}") from None
        return self

    def cpu_s(self) -> float:
        return process_cpu_s(self.ps)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self in RUNNING:
            RUNNING.remove(self)
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(8)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()


class RedisServer:
    """A private redis-server on a free port, nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.proc = Proc(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--maxclients",
                "50000",
                "--protected-mode",
                "no",
            ],
            port=self.port,
        ).wait_ready()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "FLUSHALL"], check=True, capture_output=True)

    def stop(self) -> None:
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Summed:
    """CPU seconds of several processes together (a cluster's nodes), as one Proc reports its own."""

    def __init__(self, procs: list[Proc]) -> None:
        self.procs = procs

    def cpu_s(self) -> float:
        return sum(p.cpu_s() for p in self.procs)


class RedisClusterServer:
    """A private Redis Cluster: `primaries` primaries with `replicas` replicas each (one, or none), nothing on disk.
    `proc.cpu_s()` is every node's CPU (replicas included: replication is part of what a shard costs)."""

    def __init__(self, primaries: int = 3, replicas: int = 1) -> None:
        self.dir = tempfile.mkdtemp(prefix="bench-redis-cluster-")
        self.ports = [cluster_port() for _ in range(primaries * (1 + replicas))]
        self.nodes = []
        for port in self.ports:
            folder = Path(self.dir) / str(port)
            folder.mkdir()
            argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            argv += ["--dir", str(folder), "--maxclients", "50000", "--protected-mode", "no"]
            # A replica's first sync starts at once, not after the default 5 s: MIN_REPLICAS=1 has a replica to wait for.
            argv += ["--repl-diskless-sync-delay", "0"]
            argv += node_flags(folder)
            self.nodes.append(Proc(f"redis-cluster-{port}", argv, port=port).wait_ready())
        create(self.ports, replicas=replicas)
        deadline = time.monotonic() + 30
        while not all(self._ok(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise RuntimeError("the bench's Redis Cluster did not become healthy")
            time.sleep(0.2)
        self.proc = _Summed(self.nodes)
        self.url = "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:primaries])

    def _ok(self, port: int) -> bool:
        """The node sees the whole cluster healthy, and is a primary or a replica in sync with its primary (a
        first run right after the join met a 500 while the nodes still disagreed)."""
        info = subprocess.run(["redis-cli", "-p", str(port), "CLUSTER", "INFO"], capture_output=True, text=True)
        healthy = all(
            f in info.stdout
            for f in ("cluster_state:ok", "cluster_slots_ok:16384", f"cluster_known_nodes:{len(self.ports)}")
        )
        role = subprocess.run(["redis-cli", "-p", str(port), "INFO", "replication"], capture_output=True, text=True)
        return healthy and ("role:master" in role.stdout or "master_link_status:up" in role.stdout)

    def flush(self) -> None:
        for port in self.ports:  # FLUSHALL on a replica is refused: harmless
            subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], capture_output=True)
            subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "RESETSTAT"], capture_output=True)

    def getkeys_calls(self) -> int:
        """COMMAND GETKEYS calls on every node since the last flush: what a cluster client sends to find a command's
        keys when it cannot itself (a round trip before the command). Helpline should send none."""
        calls = 0
        for port in self.ports:
            info = subprocess.run(
                ["redis-cli", "-p", str(port), "INFO", "commandstats"], capture_output=True, text=True
            )
            for line in info.stdout.splitlines():
                if line.startswith("cmdstat_command|getkeys:"):
                    calls += int(line.split("calls=", 1)[1].split(",", 1)[0])
        return calls

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


class PgDatabase:
    """`helpline_bench_<random>`, created and migrated with the project's own `helpline migrate`, dropped after."""

    def __init__(self) -> None:
        self.name = f"helpline_bench_{uuid.uuid4().hex[:10]}"
        self._psql(f'CREATE DATABASE "{self.name}"')
        self.dsn = f"postgresql://postgres@127.0.0.1:5432/{self.name}"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"
        subprocess.run(
            [str(PROJECT_BIN / "helpline"), "migrate"],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, "HELPLINE_DATABASE_URL": self.url},
        )

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", PG_ADMIN_DSN, "-q", "-c", sql], check=True, capture_output=True)

    def drop(self) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "redis": redis_version.split(" v=")[-1].split()[0] if redis_version else "",
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def install_cleanup() -> None:
    import atexit
    import signal

    atexit.register(stop_all)

    def on_signal(signum: int, _frame: object) -> None:
        stop_all()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
