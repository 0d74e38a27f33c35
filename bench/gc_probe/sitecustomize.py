"""A probe for the full collection's pause in a serving process: on this folder first on PYTHONPATH, every Helpline
gateway (and peer server) the bench starts waits for the file /tmp/gc-probe-<pid>.trigger. When it appears, the probe
runs two full collections and writes /tmp/gc-probe-<pid>.json: the second one's pause (the first may still free
what the connect burst left; the second is what an automatic full collection costs once nothing is garbage), the
objects it walked (every gc-tracked object not frozen) and the most common of their types. The idle workload
(bench/idle.py) triggers it once its connections are open. The file /tmp/gc-probe-<pid>.leak asks instead for what
freezing kept from the collector (bench/gc_leak.py): one full collection of what is not frozen (what an automatic
one would walk), then everything unfrozen and collected, the garbage only that one found counted by type, and
everything frozen again. Measuring only: until triggered it is one thread looking
for a file five times a second; nothing of it changes what the process does."""

from __future__ import annotations

import collections
import gc
import json
import os
import sys
import threading
import time

_ARGV = " ".join(sys.argv)


def _measure() -> dict[str, object]:
    first = time.perf_counter()
    freed = gc.collect()
    second = time.perf_counter()
    gc.collect()
    done = time.perf_counter()
    walked = gc.get_objects()  # generations 0-2: what a full collection walks (the frozen ones are not in them)
    by_type = collections.Counter(type(o).__qualname__ for o in walked)
    result = {
        "first_ms": (second - first) * 1000,
        "freed_first": freed,
        "pause_ms": (done - second) * 1000,
        "tracked": len(walked),
        "frozen": gc.get_freeze_count(),
        "top_types": by_type.most_common(60),
    }
    del walked
    return result


def _leak() -> dict[str, object]:
    freed_unfrozen = gc.collect()
    walked = len(gc.get_objects())
    frozen = gc.get_freeze_count()
    gc.set_debug(gc.DEBUG_SAVEALL)  # the garbage is kept in gc.garbage, to be counted by type
    gc.unfreeze()
    started = time.perf_counter()
    leaked = gc.collect()
    pause = time.perf_counter() - started
    gc.set_debug(0)
    by_type = collections.Counter(type(o).__qualname__ for o in gc.garbage)
    gc.garbage.clear()
    gc.collect()  # frees what SAVEALL kept
    gc.freeze()
    return {
        "freed_unfrozen": freed_unfrozen,
        "walked_unfrozen": walked,
        "frozen": frozen,
        "leaked": leaked,
        "full_pause_ms": pause * 1000,
        "leaked_types": by_type.most_common(30),
    }


def _watch() -> None:
    base = f"/tmp/gc-probe-{os.getpid()}"
    while True:
        time.sleep(0.2)
        for trigger, measure in ((base + ".trigger", _measure), (base + ".leak", _leak)):
            if os.path.exists(trigger):
                # A collection from this thread holds the GIL like one from the main thread: the loop stands still.
                result = measure()
                out = base + (".json" if measure is _measure else ".leak.json")
                with open(out + ".tmp", "w") as f:
                    json.dump(result, f)
                os.replace(out + ".tmp", out)
                os.unlink(trigger)


# While site runs, `python -m X` shows as argv ['-m', <X's arguments>]: the peers are the ones given a --port.
if ("helpline" in _ARGV and "gateway" in _ARGV) or (sys.argv[:1] == ["-m"] and "--port" in sys.argv):
    threading.Thread(target=_watch, name="gc-probe", daemon=True).start()
