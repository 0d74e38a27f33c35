"""What every peer server shares: its settings from the harness's environment, and the token check on hello.

Every peer authenticates like Helpline does (an HS256 JWT in the first frame), so idle memory compares like with like.
"""

from __future__ import annotations

import os

import jwt

SECRET = os.environ.get("BENCH_SECRET", "bench-secret")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNELS_LAYER = os.environ.get("BENCH_CHANNELS_LAYER", "pubsub")


def token_ok(token: object) -> bool:
    try:
        jwt.decode(str(token), SECRET, algorithms=["HS256"])
        return True
    except jwt.PyJWTError:
        return False
