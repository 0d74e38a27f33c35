"""Optional tracing: with HELPLINE_TRACING on, a span per HTTP request (named by its route) and one per commit;
recorded here by the OpenTelemetry SDK's in-memory exporter, in a real gateway served by uvicorn."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from helpline.app import create_app
from helpline.cli import uvicorn_config
from support.core.settings import Settings
from support.core.tokens import issue_token
from tests.services import SECRET, free_port, migrate, sqlite_url

trace = pytest.importorskip("opentelemetry.trace")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
export = pytest.importorskip("opentelemetry.sdk.trace.export")


def test_a_span_per_request_and_per_commit(tmp_path: Path) -> None:
    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # once per process; no other test sets one
    url = sqlite_url(tmp_path)
    migrate(url)
    port = free_port()
    settings = Settings(secret=SECRET, database_url=url, port=port, tracing=True)
    server = uvicorn.Server(uvicorn_config(create_app(settings), "127.0.0.1", port, settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "gateway did not start"
        time.sleep(0.02)
    try:
        anna = {"Authorization": "Bearer " + issue_token(SECRET, "anna", "Anna", "pro", "customer")}
        base = f"http://127.0.0.1:{port}"
        ticket = httpx.post(base + "/api/tickets", headers=anna, json={"subject": "Orders", "body": "stuck"}).json()
        sent = httpx.post(
            f"{base}/api/tickets/{ticket['id']}/messages",
            headers=anna,
            json={"body": "still stuck", "client_id": "c-1"},
        )
        assert sent.status_code == 201, sent.text
    finally:
        server.should_exit = True
        thread.join(15)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    request = spans["POST /api/tickets/{id}/messages"]
    assert request.attributes["http.response.status_code"] == 201
    assert request.attributes["helpline.request_id"] == sent.headers["x-request-id"]
    commits = [
        s for s in exporter.get_finished_spans() if s.name == "helpline.commit" and s.attributes["helpline.seq"] == 2
    ]
    assert len(commits) == 1 and commits[0].parent.span_id == request.context.span_id
    assert commits[0].attributes["helpline.ticket"] == ticket["id"]


def test_tracing_on_without_the_api_installed_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from helpline import tracing
    from support.core.environment import SettingsError

    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if the otel extra were not installed
    with pytest.raises(SettingsError, match="^HELPLINE_TRACING: true needs OpenTelemetry"):
        tracing.tracer()
