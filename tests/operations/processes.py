"""The real `helpline` command as operators run it: a clean environment (no HELPLINE_* of the test run's own),
the output captured, and a served process stopped and read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.services import ROOT, SECRET, free_port


def clean_env(tmp_path: Path, **env: str | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_") and k not in ("PORT", "HOST")}
    base.update(
        {
            "PYTHONUNBUFFERED": "1",
            "HELPLINE_SECRET": SECRET,
            "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}",
            "HELPLINE_STATUS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'status.db'}",
            "HELPLINE_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        }
    )
    merged: dict[str, str | None] = {**base, **env}  # None: unset (e.g. no HELPLINE_SECRET)
    return {k: v for k, v in merged.items() if v is not None}


def helpline(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """One `helpline` command run to its end, in `tmp_path` (so a stray ./helpline.db would show)."""
    return subprocess.run(
        [sys.executable, "-m", "helpline.cli", *args],
        env=clean_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


class Served:
    """A serving `helpline` command (gateway, statuspage, up) on free ports, its output merged and kept."""

    def __init__(self, tmp_path: Path, command: str, ready_path: str = "/healthz", **env: str | None) -> None:
        self.port, self.status_port = free_port(), free_port()
        self.env = clean_env(tmp_path, PORT=str(self.port), STATUS_PORT=str(self.status_port), HOST="127.0.0.1", **env)
        self.command, self.tmp_path, self.ready_path = command, tmp_path, ready_path
        own_port = self.status_port if command == "statuspage" else self.port
        self.url = f"http://127.0.0.1:{own_port}"
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "Served":
        if self.command == "gateway":
            subprocess.run(
                [sys.executable, "-m", "helpline.cli", "migrate"],
                env=self.env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpline.cli", self.command],
            env=self.env,
            cwd=self.tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited: {self.process.communicate()[0]}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"{self.command} did not come up")

    def stop(self) -> str:
        """Stop the process (SIGINT, as Ctrl-C) and return everything it printed."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
