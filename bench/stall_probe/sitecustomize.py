"""A probe for event-loop stalls in Helpline's own processes: put this folder first on PYTHONPATH of a bench run, e.g.

    PYTHONPATH=bench/stall_probe flock /tmp/helpline-bench.lock bench/.venv/bin/python -m bench --workloads soak ...

and every `helpline gateway` / `helpline worker` the bench starts writes /tmp/stall-probe-<role>-<pid>.log: each
garbage collection over 2 ms (and every full one) with its duration, what it freed and how many objects it walked,
and each stretch over 30 ms in which the main thread ran Python without going back to the event loop, with its most
sampled stacks. Lines start with the Unix time, to line up with the bench's intervals. Measuring only: nothing of it
changes what the process does (the sampler thread costs a few % of a core)."""

from __future__ import annotations

import collections
import gc
import os
import sys
import threading
import time
import traceback
from typing import Any

_ARGV = " ".join(sys.argv)
_ROLE = "worker" if "worker" in _ARGV else "gateway"
# The event loop waiting for I/O shows as one of these frames on top of the main thread's stack.
_IDLE = ("uvloop/__init__.py", "asyncio/runners.py", "asyncio/base_events.py")


def _install() -> None:
    log = open(f"/tmp/stall-probe-{_ROLE}-{os.getpid()}.log", "a", buffering=1)
    started = [0.0]

    def on_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        generation = info["generation"]
        if ms > 2 or generation == 2:
            walked = len(gc.get_objects(generation=2)) if generation == 2 else -1
            log.write(
                f"{time.time():.3f} gc gen{generation} {ms:.1f}ms collected={info['collected']} "
                f"objs={walked} frozen={gc.get_freeze_count()}\n"
            )

    def sample() -> None:
        main = threading.main_thread().ident
        busy_since: float | None = None
        stacks: collections.Counter[str] = collections.Counter()
        last = time.perf_counter()
        while True:
            time.sleep(0.005)
            now = time.perf_counter()
            if now - last > 0.05:  # this thread got no GIL (a collection) or no CPU (the machine) for that long
                log.write(f"{time.time():.3f} sampler-gap {(now - last) * 1000:.0f}ms\n")
            last = now
            frame = sys._current_frames().get(main)  # how py-spy-less sampling sees another thread
            if frame is None:
                continue
            if not frame.f_code.co_filename.endswith(_IDLE):
                if busy_since is None:
                    busy_since = now
                    stacks.clear()
                top = traceback.extract_stack(frame)[-6:]
                stacks[" <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}" for f in reversed(top))] += 1
            elif busy_since is not None:
                ms = (now - busy_since) * 1000
                if ms > 30:
                    log.write(f"{time.time():.3f} busy {ms:.0f}ms top: {stacks.most_common(3)}\n")
                busy_since = None

    gc.callbacks.append(on_collection)
    threading.Thread(target=sample, name="stall-probe", daemon=True).start()


if "helpline" in _ARGV and ("gateway" in _ARGV or "worker" in _ARGV):
    _install()
