"""The cyclic garbage collector in a serving process: the start-up heap frozen out of its full collections, and the
pause of every collection measured (`helpline_gc_pause_seconds`). Tuning only: it must not change what is freed."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSE = Histogram(
    "helpline_gc_pause_seconds",
    "Time the event loop stood still in one cyclic garbage collection, per generation",
    ["generation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
_BY_GENERATION = [GC_PAUSE.labels(str(generation)) for generation in range(3)]


def freeze_startup_heap() -> None:
    """Move what start-up made (modules, the app, its pools: ~100,000 objects in a gateway) out of every later
    collection. A full (generation-2) collection walks every tracked object: in the soak at 5,000 deliveries/s it
    came every ~42 s on each node, found nothing to free and held the event loop 80-170 ms, mostly walking this
    heap, which lives as long as the process; every delivery of that moment waited (issue 18, docs/benchmarks.md).
    Frozen objects are still freed by reference counting; only a cycle among them would never be collected."""
    gc.freeze()


def collect_young_less_often() -> None:
    """A gateway holds thousands of connections' long-lived objects, and a reconnect storm makes thousands more at
    once: with the default thresholds (700, 10, 10) the collector ran a full collection over all of them mid-storm
    (40 samples, 0.2 s in one stack on the survivor of a 4,000-client storm; the hello and join max at 200 ms). The
    worker uses them too (its batches are tens of thousands of fresh containers): young collections every 50,000
    allocations, full ones far rarer. A connection's objects hold no cycles on the hot path; a cycle is still
    collected, later."""
    gc.set_threshold(50_000, 20, 100)


class Refreezer:
    """Keeps what became long-lived (open connections, their rooms) out of the automatic full collections too.

    A full collection walks every tracked object that is not frozen, ~72 per open connection: 326 ms at 5,000
    connections, ~1.6 s at 19,750 (bench/gc_probe). CPython runs one whenever what reached generation 2 since the
    last exceeds 25 % of it, so churn alone (connections that come and go) brings it back, each time over every
    open connection. `step`, every `every_s`: collect the young generations (cheap: they are small) and freeze what
    survived, so an automatic full collection walks only what became long-lived since the last step.

    The cost is a cycle that was already in generation 2 at a freeze: it is never collected while frozen. A closed
    connection leaves none (freed by reference counting, tests/integration/test_ws_server.py), but an error path
    does: bench/gc_leak.py, 1,400 connections churned (every kind: closed, dropped, bad frames, bad tokens, refused
    joins, rate limited) with a refreeze every second, left 210 objects frozen as garbage, 150 per 1,000 churned
    (SQLite + memory bus; 86 on the Redis bus): a few cycles of ~35 each, an exception's traceback and frames
    holding a TCPTransport (and on Redis uvicorn's HTTP protocol: a connection lost in its handshake). So every `full_every_s` the step
    unfreezes and runs one full collection, over everything, before it freezes again: that bounds the leak to what
    churn leaves in that time, at the price of one full pause (the figures above) that often instead of at every
    churn."""

    def __init__(self, every_s: float, full_every_s: float, clock: Any = time.monotonic) -> None:
        self.every_s = every_s
        self.full_every_s = full_every_s
        self._clock = clock
        self._last_full = clock()

    def step(self) -> int:
        """One refreeze (or, when due, the full collection first); the generation collected."""
        now = self._clock()
        if now - self._last_full >= self.full_every_s:
            gc.unfreeze()
            gc.collect()
            self._last_full = now
            generation = 2
        else:
            gc.collect(1)
            generation = 1
        gc.freeze()
        return generation

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self.step()


class _PauseClock:
    """A gc callback: the wall time from each collection's start to its stop, into the histogram."""

    def __init__(self) -> None:
        self.started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            _BY_GENERATION[info["generation"]].observe(time.perf_counter() - self.started)


def measure_pauses() -> None:
    """Once per process: every collection's pause, by generation, on /metrics."""
    if not any(isinstance(callback, _PauseClock) for callback in gc.callbacks):
        gc.callbacks.append(_PauseClock())
