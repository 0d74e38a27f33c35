"""The status page keeps answering while the gateway it probes is down, and shows support chat down and back."""

from __future__ import annotations

import asyncio
import time

import httpx

from statuspage.settings import StatusSettings
from statuspage.app import create_app
from tests.statuspage.conftest import SECRET, FakeGateway, serve

WAIT_S = 20.0  # a generous bound for the probes to notice, not a speed claim


async def chat_status(http: httpx.AsyncClient) -> tuple[str, str]:
    r = await http.get("/api/status")
    assert r.status_code == 200  # every read while the gateway is down must be answered
    body = r.json()
    return {c["id"]: c["status"] for c in body["components"]}["support-chat"], body["overall"]


async def wait_for_chat(http: httpx.AsyncClient, wanted: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while True:
        status, overall = await chat_status(http)
        if status == wanted or time.monotonic() > deadline:
            assert status == wanted
            return overall
        await asyncio.sleep(0.05)


async def test_support_chat_goes_down_with_the_gateway_and_comes_back(gateway: FakeGateway, sqlite_url: str) -> None:
    gateway.start("flaky")  # every second /readyz fails: hysteresis must not flap the component
    settings = StatusSettings(
        secret=SECRET, status_database_url=sqlite_url, status_probe_urls=(gateway.url,), status_probe_interval_s=0.05
    )
    with serve(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(20):  # about 20 probe rounds of alternating failures
                assert await chat_status(http) == ("operational", "operational")
                await asyncio.sleep(0.05)

            gateway.kill()
            assert await wait_for_chat(http, "major_outage") == "major_outage"
            page = await http.get("/")
            assert page.status_code == 200
            assert 'data-component="support-chat" data-status="major_outage"' in page.text
            assert "Major outage" in page.text
            v2 = (await http.get("/api/v2/status.json")).json()
            assert v2["status"]["indicator"] == "critical"

            gateway.start("ok")
            assert await wait_for_chat(http, "operational") == "operational"
            days = (await http.get("/api/uptime")).json()["components"]
            chat = next(c for c in days if c["id"] == "support-chat")
            assert chat["days"][-1]["status"] == "major_outage" and chat["days"][-1]["uptime"] < 1.0


async def test_a_gateway_answering_503_counts_as_down(gateway: FakeGateway, sqlite_url: str) -> None:
    gateway.start("unavailable")
    settings = StatusSettings(
        secret=SECRET, status_database_url=sqlite_url, status_probe_urls=(gateway.url,), status_probe_interval_s=0.05
    )
    with serve(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await wait_for_chat(http, "major_outage")
