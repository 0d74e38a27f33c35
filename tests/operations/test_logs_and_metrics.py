"""Logs and metrics operators can use, seen from outside: a real gateway, status page and `helpline up`."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from pathlib import Path

import httpx

from helpline.logs import JsonFormatter
from support.core import log_context
from tests.operations.processes import Served
from tests.services import free_port, token

TOKEN = "scrape-token-" + "m" * 20


def json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def observed_gateway(tmp_path: Path) -> tuple[Served, str]:
    """A gateway that logs JSON and serves /metrics on a port of its own behind TOKEN: it, and the scrape URL."""
    metrics_port = free_port()
    served = Served(
        tmp_path,
        "gateway",
        HELPLINE_LOG_FORMAT="json",
        HELPLINE_METRICS_PORT=str(metrics_port),
        HELPLINE_METRICS_TOKEN=TOKEN,
    )
    return served, f"http://127.0.0.1:{metrics_port}/metrics"


def test_json_access_log_request_ids_and_http_metrics_by_route(tmp_path: Path) -> None:
    served, scrape = observed_gateway(tmp_path)
    with served as gateway:
        given = httpx.get(gateway.url + "/api/tickets/t-123", headers={"X-Request-ID": "lb-4f2a.77"})
        assert given.status_code == 401 and given.headers["x-request-id"] == "lb-4f2a.77"
        hostile = httpx.get(gateway.url + "/api/tickets/t-456", headers={"X-Request-ID": 'a b"c' + "x" * 200})
        made = hostile.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        assert httpx.get(gateway.url + "/metrics").status_code == 404  # on its own port instead
        assert httpx.get(scrape).status_code == 401
        metrics = httpx.get(scrape, headers={"Authorization": f"Bearer {TOKEN}"})
        assert metrics.status_code == 200
        time.sleep(0.2)
    lines = json_lines(gateway.stop())
    assert lines, "no JSON log lines"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
    access = [line for line in lines if line["logger"] == "helpline.access"]
    first = next(line for line in access if line.get("request_id") == "lb-4f2a.77")
    assert first["method"] == "GET" and first["path"] == "/api/tickets/t-123" and first["status"] == 401
    assert isinstance(first["duration_ms"], float)
    assert any(line.get("request_id") == made for line in access)
    assert not any(line.get("path") == "/healthz" for line in access)  # probes are DEBUG, not INFO
    samples = metrics.text
    assert (
        'helpline_http_requests_total{method="GET",route="/api/tickets/{id}",service="gateway",status="401"} 2.0'
        in samples
    )
    assert "t-123" not in samples and "t-456" not in samples  # the route template, never the raw path
    assert 'helpline_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/tickets/{id}"' in samples


def test_a_client_that_leaves_mid_body_is_counted_as_gone_not_as_a_server_error(tmp_path: Path) -> None:
    """A browser tab closed, or a load generator giving up, while a POST body is still on its way: nobody is left
    to answer. The operator sees a 499 (nginx's "client closed request"), no 500 and no traceback in the log, and
    the node goes on answering."""
    served, scrape = observed_gateway(tmp_path)
    with served as gateway:
        head = (
            "POST /api/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token('kim', 'pro')}\r\nContent-Length: 4000\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
            sock.sendall(head.encode() + b'{"subject": "half a bo')
            time.sleep(0.3)  # the handler is reading the body when the client goes
        time.sleep(0.5)
        still = httpx.get(gateway.url + "/api/tickets", headers={"Authorization": f"Bearer {token('kim', 'pro')}"})
        assert still.status_code == 200
        metrics = httpx.get(scrape, headers={"Authorization": f"Bearer {TOKEN}"})
    samples = metrics.text
    assert 'helpline_http_requests_total{method="POST",route="/api/tickets",service="gateway",status="499"} 1.0' in (
        samples
    )
    assert 'status="500"' not in samples
    lines = json_lines(gateway.stop())
    assert not [line for line in lines if str(line["level"]).upper() in ("ERROR", "CRITICAL")]
    gone = [line for line in lines if line["logger"] == "helpline.access" and line.get("method") == "POST"]
    assert [line["status"] for line in gone] == [499]


def test_the_status_page_has_readyz_and_metrics(tmp_path: Path) -> None:
    with Served(tmp_path, "statuspage", ready_path="/readyz") as page:
        ready = httpx.get(page.url + "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": True}
        httpx.get(page.url + "/api/status")
        metrics = httpx.get(page.url + "/metrics")
    assert metrics.status_code == 200
    assert 'route="/api/status",service="statuspage",status="200"' in metrics.text


def test_helpline_up_prints_its_links_last_and_keeps_them_on_screen(tmp_path: Path) -> None:
    with Served(tmp_path, "up", HELPLINE_SECRET=None, HELPLINE_STATUS_PROBE_INTERVAL_S="0.2") as up:
        for path in ("/", "/support", "/api/config", "/healthz"):
            httpx.get(up.url + path)
        time.sleep(2)  # ten probe rounds of the status page, and the requests above
    out = up.stop()
    shown = out[: out.rindex("admin token")]
    after = [line for line in out[out.rindex("admin token") :].splitlines()[1:] if line.strip()]
    assert "agent dashboard" in shown and "/?token=" in shown
    assert after == [], after  # no probe, request or article line scrolls them away; Ctrl-C adds no traceback
    warned = [line for line in out.splitlines() if " WARNING " in line or " ERROR " in line]
    assert warned == [], warned  # a clean start warns of nothing (the status page starting beside it is no news)


def test_json_lines_carry_the_connection_and_the_ticket() -> None:
    record = logging.LogRecord("helpline.tickets", logging.WARNING, __file__, 1, "ticket %s: %s", ("t1", "late"), None)
    record.ticket_id = "t1"
    token = log_context.connection_id.set("c0ffee")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        log_context.connection_id.reset(token)
    assert line["connection_id"] == "c0ffee" and line["ticket_id"] == "t1"
    assert line["level"] == "warning" and line["message"] == "ticket t1: late" and line["time"].endswith("Z")
