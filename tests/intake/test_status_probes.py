"""The status page's automatic probes: support chat follows the gateways' /readyz, and a lagging persistence
worker (reported in /readyz as `worker_lag_s`) shows as degraded performance, without flapping.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from statuspage.settings import StatusSettings
from statuspage.app import create_app
from statuspage.probes import GatewayProbe
from tests.services import SECRET, Gateway, free_port, migrate, sqlite_url


class ReportingGateway:
    """A real HTTP server answering /readyz like a gateway whose worker lag the test sets."""

    def __init__(self) -> None:
        self.lag: float | None = None

        async def readyz(request: Request) -> JSONResponse:
            body: dict[str, object] = {"status": "ok", "checks": {"database": True, "bus": True}}
            if self.lag is not None:
                body["worker_lag_s"] = self.lag
            return JSONResponse(body)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/readyz"
        self.server = uvicorn.Server(
            uvicorn.Config(
                Starlette(routes=[Route("/readyz", readyz)]), host="127.0.0.1", port=self.port, log_level="warning"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)


@pytest.fixture
def reporting_gateway() -> Iterator[ReportingGateway]:
    gw = ReportingGateway()
    gw.thread.start()
    while not gw.server.started:
        time.sleep(0.02)
    yield gw
    gw.server.should_exit = True
    gw.thread.join(10)


async def test_a_lagging_worker_degrades_support_chat_without_flapping(reporting_gateway: ReportingGateway) -> None:
    reported: list[str] = []

    async def report(status: str) -> None:
        reported.append(status)

    probe = GatewayProbe((reporting_gateway.url,), 1.0, report, "operational", worker_lag_max_s=30)
    async with httpx.AsyncClient(timeout=5) as client:
        for lag in (None, 2.0, 120.0, 2.0, 120.0, 120.0):  # single slow rounds are not an outage
            reporting_gateway.lag = lag
            await probe.tick(client)
        assert reported == [] and probe.status == "operational"
        reporting_gateway.lag = 120.0
        await probe.tick(client)
        assert reported == ["degraded_performance"]
        reporting_gateway.lag = 0.5
        await probe.tick(client)
        await probe.tick(client)
        assert reported == ["degraded_performance", "operational"]
        reporting_gateway.lag = None  # a gateway without a worker (embedded default) reports no lag
        for _ in range(4):
            await probe.tick(client)
        assert probe.status == "operational" and len(reported) == 2


async def chat_status(http: httpx.AsyncClient) -> str:
    body = (await http.get("/api/status")).json()
    return {c["id"]: c["status"] for c in body["components"]}["support-chat"]


async def wait_for(http: httpx.AsyncClient, wanted: str) -> None:
    for _ in range(400):
        if await chat_status(http) == wanted:
            return
        await asyncio.sleep(0.05)
    assert await chat_status(http) == wanted


def test_support_chat_follows_a_real_gateways_readiness(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    migrate(url)
    gateway = Gateway(url).start()
    settings = StatusSettings(
        secret=SECRET,
        status_database_url=f"sqlite+aiosqlite:///{tmp_path / 'status.db'}",
        status_probe_urls=(gateway.url + "/readyz",),
        status_probe_interval_s=0.05,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        ready = httpx.get(gateway.url + "/readyz").json()
        assert ready["status"] == "ok" and ready["checks"]["database"] and ready["checks"]["bus"]

        async def scenario() -> None:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
                await wait_for(http, "operational")
                gateway.kill()
                await wait_for(http, "major_outage")
                gateway.start()
                await wait_for(http, "operational")

        asyncio.run(scenario())
    finally:
        gateway.stop()
        server.should_exit = True
        thread.join(10)
