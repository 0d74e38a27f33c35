"""What a gateway node's status feed tells the operator: a status page still starting (nodes and the page come up in
any order, `helpline up` starts both at once) is not a warning; one that stays away, or goes away after the feed
had it, is."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from support.incidents import feed
from support.incidents.feed import StatusFeed
from support.incidents.status_client import StatusClient
from tests.intake.conftest import StatusPage


async def feed_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[tuple[int, str]]:
    for _ in range(500):
        lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "helpline.incidents"]
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.02)
    raise AssertionError(f"the feed logged {lines}")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(feed, "BACKOFF_MIN_S", 0.05)
    monkeypatch.setattr(feed, "BACKOFF_MAX_S", 0.05)
    caplog.set_level(logging.INFO, logger="helpline.incidents")


async def test_a_page_not_up_yet_is_info_and_one_that_stays_away_becomes_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = StatusPage(tmp_path)  # its port is chosen, nothing listens on it yet
    client = StatusClient(page.url, cache_s=0)
    status = StatusFeed(client, on_status=lambda event: None)
    status.start()
    try:
        lines = await feed_lines(caplog, feed.QUIET_START_FAILURES + 2)
    finally:
        await status.close()
        await client.close()
    levels = [level for level, _ in lines]
    assert levels[: feed.QUIET_START_FAILURES] == [logging.INFO] * feed.QUIET_START_FAILURES
    assert levels[feed.QUIET_START_FAILURES :] == [logging.WARNING] * (len(levels) - feed.QUIET_START_FAILURES)
    assert all("status feed unavailable" in message for _, message in lines)


async def test_a_page_that_goes_away_after_the_feed_had_it_is_a_warning_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = StatusPage(tmp_path).start()
    client = StatusClient(page.url, cache_s=0)
    pushes: list[feed.StatusEvent] = []
    status = StatusFeed(client, on_status=pushes.append)
    status.start()
    try:
        for _ in range(500):
            if pushes:
                break
            await asyncio.sleep(0.02)
        assert pushes and status.connected  # the page's first push arrived: the feed has it
        await asyncio.to_thread(page.stop)
        lines = await feed_lines(caplog, 2)
    finally:
        await status.close()
        await client.close()
    failures = [level for level, message in lines if "unavailable" in message]
    assert failures and failures[0] == logging.WARNING
