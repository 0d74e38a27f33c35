"""Probes of the gateway's /readyz that set the probed component's status by themselves.

Hysteresis keeps one slow or failed probe from flapping the page: a URL goes down after `fail_after`
consecutive failures and comes back after `recover_after` consecutive successes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import httpx

log = logging.getLogger("helpline.statuspage.probes")

FAIL_AFTER = 3
RECOVER_AFTER = 2


class Hysteresis:
    """The up/down state of one probe target, changed only by a run of equal observations."""

    def __init__(self, up: bool, fail_after: int = FAIL_AFTER, recover_after: int = RECOVER_AFTER) -> None:
        self.up = up
        self.fail_after, self.recover_after = fail_after, recover_after
        self._run = 0  # consecutive observations that disagree with the current state

    def observe(self, ok: bool) -> bool:
        if ok == self.up:
            self._run = 0
        else:
            self._run += 1
            if self._run >= (self.recover_after if ok else self.fail_after):
                self.up, self._run = ok, 0
        return self.up


def aggregate(states: list[bool]) -> str:
    """Every gateway ready: operational; some: partial_outage; none: major_outage."""
    if all(states):
        return "operational"
    return "major_outage" if not any(states) else "partial_outage"


async def probe_once(client: httpx.AsyncClient, url: str) -> bool:
    """Ready means 200 and `"status": "ok"`; a refused connection, a timeout or a 503 is a failure."""
    try:
        response = await client.get(url)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


class GatewayProbe:
    """Probes every URL each interval and reports the component status when it changes."""

    def __init__(self, urls: tuple[str, ...], interval_s: float, report: Callable[[str], Awaitable[None]],
                 initial_status: str, fail_after: int = FAIL_AFTER, recover_after: int = RECOVER_AFTER) -> None:
        up = initial_status != "major_outage"
        self.urls, self.interval_s, self.report = urls, interval_s, report
        self.targets = {url: Hysteresis(up, fail_after, recover_after) for url in urls}
        self.status = initial_status
        self._timeout = max(1.0, min(5.0, interval_s))

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            while True:
                try:
                    await self.tick(client)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a failing store write must not end the probes
                    log.exception("status probe round failed")
                await asyncio.sleep(self.interval_s)

    async def tick(self, client: httpx.AsyncClient) -> None:
        results = await asyncio.gather(*(probe_once(client, url) for url in self.urls))
        states = [self.targets[url].observe(ok) for url, ok in zip(self.urls, results)]
        status = aggregate(states)
        if status != self.status:
            log.warning("gateway probes: %s -> %s", self.status, status)
            await self.report(status)
            self.status = status
