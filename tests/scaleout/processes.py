"""Real processes of a scale-out deployment for tests: `helpline worker` and a private `redis-server`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from tests.services import ROOT, SECRET, free_port, unavailable


class Worker:
    """A real `helpline worker` process."""

    def __init__(self, database_url: str, redis_url: str, prefix: str, **env: str) -> None:
        self.env = {
            **os.environ,
            "HELPLINE_SECRET": SECRET,
            "HELPLINE_DATABASE_URL": database_url,
            "HELPLINE_REDIS_URL": redis_url,
            "HELPLINE_KEY_PREFIX": prefix,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen([sys.executable, "-m", "helpline.cli", "worker"], env=self.env, cwd=ROOT)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None


class PrivateRedis:
    """A redis-server of the test's own, on a free port and in a temp dir, that the test may kill and restart."""

    def __init__(self, directory: Path, durable: bool) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed: the Redis restart tests need a private one")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if durable else ["--appendonly", "no"]
        self.args = [
            str(binary),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(directory),
            *persistence,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("private redis-server did not come up")
                time.sleep(0.05)
        client.close()
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
