"""Workload 4, the machine's physical limit: raw Redis PUBLISH rate from redis-benchmark, one by one and pipelined.
(The bare websockets broadcast server's rate is the `bare` system of the fan-out workload, same run.)"""

from __future__ import annotations

import re
import subprocess
from typing import Any

from bench.env import RedisServer


def redis_publish(redis: RedisServer, requests: int) -> dict[str, Any]:
    payload = "x" * 100
    out: dict[str, Any] = {}
    for label, pipeline in (("publish_per_s", 1), ("publish_pipelined16_per_s", 16)):
        run = subprocess.run(
            [
                "redis-benchmark",
                "-h",
                "127.0.0.1",
                "-p",
                str(redis.port),
                "-c",
                "50",
                "-n",
                str(requests),
                "-P",
                str(pipeline),
                "-q",
                "PUBLISH",
                "bench:limit",
                payload,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        found = re.findall(r"([\d.]+) requests per second", run.stdout + run.stderr)
        out[label] = float(found[-1]) if found else None
    return out
