"""The webhook dispatcher: fans outbox events out to endpoints and delivers them with httpx, signed, with retries.

It runs beside the persistence side (the worker, or `helpline up`'s single process), never on the gateway's hot
path. Delivery is at least once: a receiver de-duplicates on the event id. A delivery that keeps failing for the
retry window (a day by default) fails, and its endpoint is marked failing until an admin re-enables it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import msgspec
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from persistence.models_integrations import OutboxEvent, WebhookDelivery, WebhookEndpoint
from persistence.background import BackgroundLoop
from persistence.outbox import subscribed
from persistence.store import TicketStore
from support.core.clock import as_utc, utcnow
from support.core.settings import Settings

log = logging.getLogger("helpline.webhooks")

FAN_OUT_BATCH = 200
DELIVERY_BATCH = 50
CONCURRENT_DELIVERIES = 10
SIGNATURE_VERSION = "v1"
PRUNE_EVERY_S = 3600.0
OUTBOX_KEEP_S = 7 * 24 * 3600.0  # far longer than any replay of a worker's batch, the reason ids are stable
DELIVERY_LOG_KEEP_S = 30 * 24 * 3600.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under the endpoint's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, tolerance_s: float = 300, now: float | None = None
) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines): recompute and compare in constant time."""
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


def backoff_s(attempts: int, base_s: float, max_s: float, rng: random.Random = random.Random()) -> float:
    """Exponential in the attempts made, capped, with jitter so that failed deliveries do not retry in step."""
    delay = min(max_s, base_s * 2 ** max(0, attempts - 1))
    return float(delay / 2 + rng.uniform(0, delay / 2))


@dataclass(frozen=True)
class _Due:
    pk: int
    attempts: int
    expires_at: datetime
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: dict[str, Any]


class Dispatcher:
    def __init__(self, settings: Settings, store: TicketStore) -> None:
        self.settings = settings
        self.store = store
        self.sessions = store.sessions
        self._next_prune = 0.0
        self._client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "Helpline-Webhooks/1"},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: fan out, deliver what is due, then wait a poll period when idle."""
        log.info("webhook dispatcher running")
        while not stop.is_set():
            busy = False
            try:
                busy = await self.step()
            except Exception:
                log.exception("webhook dispatch round failed")
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.webhook_poll_s)
                except asyncio.TimeoutError:
                    pass

    async def step(self) -> bool:
        """One round; True when there was work (so the next round need not wait)."""
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_S
            await self.prune()
        fanned = await self.fan_out()
        sent = await self.deliver_due()
        return fanned > 0 or sent > 0

    async def prune(self) -> None:
        """Forget old outbox events (none a pending delivery still needs) and old delivery log entries."""
        now = utcnow()
        d, ev = WebhookDelivery, OutboxEvent
        async with self.sessions.begin() as session:
            await session.execute(
                delete(d).where(d.created_at < now - timedelta(seconds=DELIVERY_LOG_KEEP_S), d.status != "pending")
            )
            await session.execute(
                delete(ev).where(
                    ev.created_at < now - timedelta(seconds=OUTBOX_KEEP_S),
                    ev.fanned_out.is_(True),
                    ~ev.pk.in_(select(d.event_pk).where(d.status == "pending")),
                )
            )

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert)(table)

    async def fan_out(self) -> int:
        """Turn new outbox events into one pending delivery per subscribed endpoint, in one transaction."""
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.webhook_retry_window_s)
        async with self.sessions.begin() as session:
            query = select(OutboxEvent).where(OutboxEvent.fanned_out.is_(False)).order_by(OutboxEvent.pk)
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)  # several workers share the outbox
            events = list(await session.scalars(query.limit(FAN_OUT_BATCH)))
            if not events:
                return 0
            endpoints = list(
                await session.scalars(
                    select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True), WebhookEndpoint.failing.is_(False))
                )
            )
            rows = [
                dict(
                    endpoint_id=ep.id,
                    event_pk=ev.pk,
                    event_id=ev.event_id,
                    event_type=ev.type,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    expires_at=expires,
                    created_at=now,
                )
                for ev in events
                for ep in endpoints
                if wants(ep, ev.type, ev.internal)
            ]
            if rows:
                await session.execute(self._insert(WebhookDelivery).on_conflict_do_nothing(), rows)
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.pk.in_([e.pk for e in events])).values(fanned_out=True)
            )
            return len(events)

    async def deliver_due(self) -> int:
        due = await self._claim_due()
        if not due:
            return 0
        gate = asyncio.Semaphore(CONCURRENT_DELIVERIES)

        async def one(item: _Due) -> None:
            async with gate:
                await self._deliver(item)

        await asyncio.gather(*(one(item) for item in due))
        return len(due)

    async def _claim_due(self) -> list[_Due]:
        d, ep, ev = WebhookDelivery, WebhookEndpoint, OutboxEvent
        now = utcnow()
        query = (
            select(d.pk, d.attempts, d.expires_at, ep.id, ep.url, ep.secret, d.event_id, d.event_type, ev.payload)
            .join(ep, ep.id == d.endpoint_id)
            .join(ev, ev.pk == d.event_pk)
            .where(d.status == "pending", d.next_attempt_at <= now, ep.active.is_(True), ep.failing.is_(False))
            .order_by(d.next_attempt_at, d.pk)
            .limit(DELIVERY_BATCH)
        )
        async with self.sessions() as session:
            candidates = [_Due(*row) for row in (await session.execute(query)).all()]
        claimed = []
        # The claim counts the attempt and leases the delivery; the attempt count is the optimistic lock, so
        # two dispatchers never send the same attempt.
        lease = now + timedelta(seconds=self.settings.webhook_timeout_s * 2 + 5)
        async with self.sessions.begin() as session:
            for item in candidates:
                result = await session.execute(
                    update(d)
                    .where(d.pk == item.pk, d.status == "pending", d.attempts == item.attempts)
                    .values(attempts=item.attempts + 1, next_attempt_at=lease, last_attempt_at=now)
                )
                if cast("CursorResult[Any]", result).rowcount == 1:
                    claimed.append(item)
        return claimed

    async def _deliver(self, item: _Due) -> None:
        body = msgspec.json.encode(item.payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Helpline-Event-Id": item.event_id,
            "Helpline-Event-Type": item.event_type,
            "Helpline-Delivery": str(item.pk),
            "Helpline-Attempt": str(item.attempts + 1),
            "Helpline-Timestamp": str(timestamp),
            "Helpline-Signature": signature(item.secret, timestamp, body),
        }
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(item.url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        except Exception as exc:  # a malformed URL and the like: a failed attempt, never a dead dispatcher
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency_ms = (time.perf_counter() - started) * 1000
        await self._record(item, code, error, latency_ms)

    async def _record(self, item: _Due, code: int | None, error: str | None, latency_ms: float) -> None:
        d, ep = WebhookDelivery, WebhookEndpoint
        now = utcnow()
        values: dict[str, Any] = dict(last_status_code=code, last_latency_ms=round(latency_ms, 1), last_error=error)
        attempts = item.attempts + 1
        async with self.sessions.begin() as session:
            if error is None:
                values.update(status="delivered", delivered_at=now)
            elif now >= as_utc(item.expires_at):
                values.update(status="failed")
                await session.execute(
                    update(ep)
                    .where(ep.id == item.endpoint_id, ep.failing.is_(False))
                    .values(failing=True, failing_since=now)
                )
                log.warning("webhook endpoint %s is failing: %s", item.endpoint_id, error)
            else:
                delay = backoff_s(attempts, self.settings.webhook_backoff_base_s, self.settings.webhook_backoff_max_s)
                values.update(next_attempt_at=now + timedelta(seconds=delay))
            await session.execute(update(d).where(d.pk == item.pk, d.status == "pending").values(**values))


def wants(endpoint: WebhookEndpoint, event_type: str, internal: bool) -> bool:
    """An endpoint gets the event types it subscribed to; internal notes only when it asked for them."""
    return subscribed(endpoint.events, endpoint.include_internal, event_type, internal)


class EmbeddedDispatcher(BackgroundLoop):
    """The dispatcher as a background task of a process that has the store already (`helpline up`, a gateway
    without Redis); it shares that store's pool and stops with the process."""

    def __init__(self, settings: Settings, store: TicketStore) -> None:
        super().__init__(lambda stop: run_dispatcher(settings, stop, store), "webhook-dispatcher", 10)


async def run_dispatcher(settings: Settings, stop: asyncio.Event, store: TicketStore | None = None) -> None:
    """Run a dispatcher until `stop` is set (the worker's entry point; the embedded default passes its store)."""
    own = store is None
    store = store or TicketStore(settings.database_url)
    dispatcher = Dispatcher(settings, store)
    try:
        await dispatcher.run(stop)
    finally:
        await dispatcher.close()
        if own:
            await store.close()


__all__ = ["Dispatcher", "run_dispatcher", "signature", "verify", "backoff_s", "wants"]
