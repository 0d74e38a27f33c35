"""Probes of the gateway's /readyz that set the probed component's status by themselves.

Hysteresis keeps one slow or failed probe from flapping the page: a URL goes down after `fail_after`
consecutive failures and comes back after `recover_after` consecutive successes. A ready gateway whose persistence
worker lags (its /readyz `worker_lag_s`) makes the component degraded, with the same hysteresis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

import httpx

log = logging.getLogger("helpline.statuspage.probes")

FAIL_AFTER = 3
RECOVER_AFTER = 2
# A status page starts with the gateways it watches (`helpline up`, a compose file, a rolling deploy): until a
# target has answered once, its failures in the first seconds are a start, not an outage. A real outage found at a
# restart is reported this much later.
START_GRACE_S = 10.0
WORKER_LAG_MAX_S = 60.0  # live chat works, but history and the Support tab trail by more than a minute


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


def aggregate(states: list[bool], lagging: list[bool] | None = None) -> str:
    """Every gateway ready: operational (degraded_performance if one's worker lags); some: partial_outage;
    none: major_outage."""
    if all(states):
        return "degraded_performance" if lagging and any(lagging) else "operational"
    return "major_outage" if not any(states) else "partial_outage"


async def probe_once(client: httpx.AsyncClient, url: str) -> bool:
    """Ready means 200 and `"status": "ok"`; a refused connection, a timeout or a 503 is a failure."""
    return (await probe_readiness(client, url))[0]


async def probe_readiness(client: httpx.AsyncClient, url: str) -> tuple[bool, float | None]:
    """(ready, the persistence worker's lag in seconds when the gateway reports one)."""
    try:
        response = await client.get(url)
        body = response.json()
        ready = response.status_code == 200 and body.get("status") == "ok"
        lag = body.get("worker_lag_s")
        return ready, float(lag) if isinstance(lag, (int, float)) and not isinstance(lag, bool) else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return False, None


class GatewayProbe:
    """Probes every URL each interval and reports the component status when it changes."""

    def __init__(
        self,
        urls: tuple[str, ...],
        interval_s: float,
        report: Callable[[str], Awaitable[None]],
        initial_status: str,
        fail_after: int = FAIL_AFTER,
        recover_after: int = RECOVER_AFTER,
        worker_lag_max_s: float = WORKER_LAG_MAX_S,
        start_grace_s: float = START_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        up = initial_status != "major_outage"
        self.urls, self.interval_s, self.report = urls, interval_s, report
        self.targets = {url: Hysteresis(up, fail_after, recover_after) for url in urls}
        # "up" here means the worker keeps up; a gateway that reports no lag (no Redis, older build) keeps up.
        self.worker = {
            url: Hysteresis(initial_status != "degraded_performance", fail_after, recover_after) for url in urls
        }
        self.worker_lag_max_s = worker_lag_max_s
        self.status = initial_status
        self._timeout = max(1.0, min(5.0, interval_s))
        self._clock = clock
        self._grace_until: float | None = None  # set at the first round: start_grace_s after it
        self._start_grace_s = start_grace_s
        self._answered: set[str] = set()  # targets seen ready at least once since the start

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
        results = await asyncio.gather(*(probe_readiness(client, url) for url in self.urls))
        now = self._clock()
        if self._grace_until is None:
            self._grace_until = now + self._start_grace_s
        starting = now < self._grace_until
        self._answered.update(url for url, (ok, _lag) in zip(self.urls, results) if ok)
        states = [
            self.targets[url].up if starting and not ok and url not in self._answered else self.targets[url].observe(ok)
            for url, (ok, _lag) in zip(self.urls, results)
        ]
        lagging = [
            not self.worker[url].observe(lag is None or lag <= self.worker_lag_max_s)
            for url, (ok, lag) in zip(self.urls, results)
            if ok
        ]
        status = aggregate(states, lagging)
        log.debug(
            "gateway probes: %s",
            ", ".join(f"{url} {'ok' if ok else 'down'}" for url, (ok, _) in zip(self.urls, results)),
        )
        if status != self.status:
            log.warning("gateway probes: %s -> %s", self.status, status)
            await self.report(status)
            self.status = status
