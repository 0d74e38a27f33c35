"""Probe hysteresis: one failed or slow probe never flips the component; a run of them does."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from statuspage.probes import GatewayProbe, Hysteresis, aggregate, probe_once
from tests.statuspage.conftest import FakeGateway


def test_hysteresis_needs_n_failures_to_go_down_and_m_successes_to_come_back() -> None:
    h = Hysteresis(up=True, fail_after=3, recover_after=2)
    assert [h.observe(ok) for ok in (False, False, True, False, False)] == [True] * 5  # broken runs: stays up
    assert h.observe(False) is False  # the third failure in a row
    assert [h.observe(ok) for ok in (True, False, True)] == [False, False, False]
    assert h.observe(True) is True


def test_aggregate_over_gateway_nodes() -> None:
    assert aggregate([True, True]) == "operational"
    assert aggregate([True, False]) == "partial_outage"
    assert aggregate([False, False]) == "major_outage"


@pytest.fixture
def two_gateways() -> Iterator[tuple[FakeGateway, FakeGateway]]:
    a, b = FakeGateway(), FakeGateway()
    yield a, b
    a.kill()
    b.kill()


async def test_probe_reads_readyz_like_the_gateway_answers_it(two_gateways: tuple[FakeGateway, FakeGateway]) -> None:
    ok, unavailable = two_gateways
    ok.start("ok")
    unavailable.start("unavailable")
    async with httpx.AsyncClient(timeout=2) as client:
        assert await probe_once(client, ok.url) is True
        assert await probe_once(client, unavailable.url) is False
        assert await probe_once(client, ok.url.replace("/readyz", "/nope")) is False
        unavailable.kill()
        assert await probe_once(client, unavailable.url) is False  # connection refused


async def test_probe_reports_only_after_the_hysteresis(two_gateways: tuple[FakeGateway, FakeGateway]) -> None:
    first, second = two_gateways
    first.start("ok")
    second.start("ok")
    reported: list[str] = []

    async def report(status: str) -> None:
        reported.append(status)

    probe = GatewayProbe((first.url, second.url), 1.0, report, "operational", fail_after=3, recover_after=2)
    async with httpx.AsyncClient(timeout=2) as client:
        await probe.tick(client)
        second.kill()
        for _ in range(2):
            await probe.tick(client)
        assert reported == []  # two failures are not an outage
        await probe.tick(client)
        assert reported == ["partial_outage"]  # one node of two is down
        first.kill()
        for _ in range(3):
            await probe.tick(client)
        assert reported == ["partial_outage", "major_outage"]
        first.start("ok")
        second.start("ok")
        await probe.tick(client)
        assert reported[-1] == "major_outage"
        await probe.tick(client)
        assert reported == ["partial_outage", "major_outage", "operational"]


async def test_a_gateway_starting_with_the_status_page_is_no_outage(
    two_gateways: tuple[FakeGateway, FakeGateway],
) -> None:
    """`helpline up` starts the status page and the gateway together: the gateway's first seconds of not answering
    are its start; once the grace is over, or once it has answered, failures count again."""
    first, second = two_gateways
    now = [0.0]
    reported: list[str] = []

    async def report(status: str) -> None:
        reported.append(status)

    probe = GatewayProbe(
        (first.url, second.url), 1.0, report, "operational", fail_after=3, start_grace_s=10.0, clock=lambda: now[0]
    )
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(5):  # neither listens yet: five failed rounds inside the grace
            await probe.tick(client)
            now[0] += 1.0
        assert reported == []
        first.start("ok")
        await probe.tick(client)  # the first has answered: from now on its failures count, the second's not yet
        first.kill()
        for _ in range(3):
            await probe.tick(client)
            now[0] += 1.0
        assert reported == ["partial_outage"]
        now[0] = 11.0  # the grace is over: the second, never seen, is down too
        for _ in range(3):
            await probe.tick(client)
        assert reported == ["partial_outage", "major_outage"]
