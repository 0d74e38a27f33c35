"""Workload: the widget's first load from `helpline up` (the embedded default, as a new user runs it), on a bare host
page (only the embed) and on the demo page, measured in headless Chromium by bench/widget_probe.py under the
project's .venv: bytes on the wire for the embed, requests, round-trip depth, and time from the script tag to the
launcher being visible."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any


from bench.env import PROJECT_BIN, ROOT, Proc, free_port
from bench.systems import SECRET, token

CHROMIUM = "/usr/bin/chromium"


def run(loads: int, log: Any = print) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        return {"error": f"{CHROMIUM} is missing (apt-get install -y chromium)"}
    folder = tempfile.mkdtemp(prefix="bench-widget-")
    port, status_port = free_port(), free_port()
    env = {
        "HELPLINE_SECRET": SECRET,
        "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/helpline.db",
        "HELPLINE_STATUS_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/status.db",
        "HELPLINE_REDIS_URL": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STATUS_PORT": str(status_port),
    }
    up = Proc("helpline-up", [str(PROJECT_BIN / "helpline"), "up"], env=env, port=port).wait_ready(60)
    try:
        base = f"http://127.0.0.1:{port}"
        # A signed-in customer: the widget only renders once the host page boots it with a token. The bench signs it
        # with its own secret (/demo/tokens answers only a `helpline up` that generated its secret itself).
        customer = token("bench-widget-customer")
        probe = subprocess.run(
            [str(PROJECT_BIN / "python"), "-m", "bench.widget_probe", f"{base}/?token={customer}", str(loads)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        if probe.returncode != 0:
            return {"error": probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "probe failed"}
        out: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
        log(
            f"  widget: {out['requests']} requests ({out['code_requests']} code), {out['bytes'] / 1000:.1f} kB on the "
            f"wire ({out['code_bytes'] / 1000:.1f} kB code), {out['round_trips']} round trips deep "
            f"({out['code_round_trips']} for code), {out['compressed_responses']} compressed; script tag → launcher "
            f"{out['script_to_launcher_ms']:.0f} ms (median of {loads}), on a bare host; on the demo page "
            f"{out['demo_page']['bytes'] / 1000:.1f} kB in {out['demo_page']['requests']} requests, "
            f"{out['demo_page']['round_trips']} deep, launcher {out['demo_page']['script_to_launcher_ms']:.0f} ms"
        )
        return out
    finally:
        up.stop()
