"""Fixtures of incident-aware intake: a real status page (uvicorn, own SQLite) and real gateway processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import uvicorn

from support.core.tokens import issue_token
from statuspage.settings import StatusSettings
from statuspage.app import create_app
from tests.services import SECRET, free_port

# The watcher looks often and matching reads the status page fresh, so tests wait for behaviour, not for caches.
INTAKE_ENV = {"HELPLINE_INCIDENT_POLL_S": "0.2", "HELPLINE_STATUS_CACHE_S": "0"}


class StatusPage:
    """The status page service under a real uvicorn in a thread, with its own SQLite store and no probes."""

    def __init__(self, tmp_path: Path) -> None:
        settings = StatusSettings(
            secret=SECRET, status_database_url=f"sqlite+aiosqlite:///{tmp_path / 'status.db'}", status_probe_urls=()
        )
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin = {"Authorization": f"Bearer {issue_token(SECRET, 'ops', 'Ops', role='admin')}"}

    def start(self) -> "StatusPage":
        """Start (or start again, on the same port and store)."""
        # A bounded shutdown: the gateways' /api/stream subscriptions are cut after it, as in `helpline statuspage`.
        config = uvicorn.Config(
            create_app(self.settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("status page did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    def open_incident(self, name: str, body: str, components: list[str], impact: str = "major") -> dict:
        r = httpx.post(
            self.url + "/api/incidents",
            headers=self.admin,
            timeout=30,  # the machine may be busy starting gateways; this is not a speed check
            json={"name": name, "status": "investigating", "body": body, "impact": impact, "components": components},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def resolve(self, incident_id: str, body: str) -> None:
        r = httpx.post(
            f"{self.url}/api/incidents/{incident_id}/updates",
            headers=self.admin,
            timeout=30,
            json={"status": "resolved", "body": body},
        )
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def status_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StatusPage]:
    page = StatusPage(tmp_path_factory.mktemp("status")).start()
    yield page
    page.stop()


def token(sub: str, plan: str = "free", role: str = "customer", name: str | None = None) -> str:
    return issue_token(SECRET, sub, name or sub.title(), plan, role)


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}
