"""Prometheus metrics of a gateway node (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("helpline_connections", "Open WebSocket connections on this node")
FRAMES_IN = Counter("helpline_frames_in_total", "Client frames received", ["type"])
FRAMES_OUT = Counter("helpline_frames_out_total", "Frames sent to clients")
COMMITS = Counter("helpline_commits_total", "Messages committed", ["duplicate"])
COMMIT_LATENCY = Histogram("helpline_commit_seconds", "Time from send to commit",
                           buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
ERRORS = Counter("helpline_error_frames_total", "Error frames sent", ["code"])
SLOW_CLIENTS = Counter("helpline_slow_client_disconnects_total", "Connections closed for falling behind")
WORKER_LAG = Gauge("helpline_worker_lag", "Committed messages the persistence worker has not written yet (Redis bus)")
WORKER_LAG_SECONDS = Gauge("helpline_worker_lag_seconds", "Age of the oldest committed message not yet written")
