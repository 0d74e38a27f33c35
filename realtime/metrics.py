"""Prometheus metrics of a gateway node (served at /metrics)."""

from __future__ import annotations

from typing import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

CONNECTIONS = Gauge("helpline_connections", "Open WebSocket connections on this node")
FRAMES_IN = Counter("helpline_frames_in_total", "Client frames received", ["type"])
COMMITS = Counter("helpline_commits_total", "Messages committed", ["duplicate"])
# Children resolved once: labels() takes a lock and builds a key on every call, and these count every message.
COMMITTED_NEW, COMMITTED_DUPLICATE = COMMITS.labels("false"), COMMITS.labels("true")
COMMIT_LATENCY = Histogram(
    "helpline_commit_seconds",
    "Time from send to commit",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
ERRORS = Counter("helpline_error_frames_total", "Error frames sent", ["code"])
SLOW_CLIENTS = Counter("helpline_slow_client_disconnects_total", "Connections closed for falling behind")
WORKER_LAG = Gauge("helpline_worker_lag", "Committed messages the persistence worker has not written yet (Redis bus)")
WORKER_LAG_SECONDS = Gauge("helpline_worker_lag_seconds", "Age of the oldest committed message not yet written")


class FramesOut(Collector):
    """Frames sent to clients: a plain integer on the hot path (one per recipient), read when /metrics is scraped."""

    def __init__(self) -> None:
        self.count = 0

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("helpline_frames_out", "Frames sent to clients", value=self.count)


FRAMES_OUT = FramesOut()
REGISTRY.register(FRAMES_OUT)


_frames_in_by_type: dict[type, Counter] = {}


def count_frame_in(frame_type: type) -> None:
    child = _frames_in_by_type.get(frame_type)
    if child is None:
        child = _frames_in_by_type[frame_type] = FRAMES_IN.labels(frame_type.__name__.lower())
    child.inc()
