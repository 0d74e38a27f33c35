"""`helpline worker`: drains the Redis persistence stream into the database, in batches, exactly once in effect.

A consumer group hands out entries; a batch is written in one transaction (idempotent on (ticket, seq)) and only
then acknowledged; entries a dead worker left pending are claimed; the stream is trimmed below the oldest entry not
yet acknowledged, never further. Several workers may run at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from persistence.store import TicketStore
from persistence.webhooks import run_dispatcher
from realtime.bus import redis_layout as layout
from realtime.bus.redis_lag import PERSIST_GROUP, persist_lag
from realtime.protocol import Message
from realtime.settings import Settings

log = logging.getLogger("helpline.worker")

BATCH = 500
BLOCK_MS = 1000
MAINTAIN_EVERY_S = 1.0
LAG_LOG_EVERY_S = 30.0
DEAD_CONSUMER_IDLE_MS = 3600 * 1000

REGISTRY = CollectorRegistry()  # the worker's own: it shares no process with a gateway's metrics
WRITTEN = Counter("helpline_worker_written_total", "Messages written to the database", registry=REGISTRY)
BATCHES = Counter("helpline_worker_batches_total", "Batches committed to the database", registry=REGISTRY)
CLAIMED = Counter("helpline_worker_claimed_total", "Entries claimed from dead workers", registry=REGISTRY)
LAG = Gauge("helpline_worker_lag", "Committed messages not yet written to the database", registry=REGISTRY)
LAG_SECONDS = Gauge("helpline_worker_lag_seconds", "Age of the oldest committed message not yet written",
                    registry=REGISTRY)

Entry = layout.Entry


class PersistenceWorker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = TicketStore(settings.database_url)
        self.redis = Redis.from_url(settings.redis_url or "", socket_connect_timeout=2, socket_timeout=10,
                                    retry=Retry(NoBackoff(), 0))
        self.stream = layout.Keys(settings.key_prefix).persist
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.claim_idle_ms = int(settings.worker_claim_idle_s * 1000)
        self.stopping = asyncio.Event()
        self._next_maintenance = 0.0
        self._next_lag_log = 0.0

    def stop(self) -> None:
        """Finish the batch in hand, acknowledge it, and return (SIGTERM)."""
        self.stopping.set()

    async def close(self) -> None:
        await self.redis.aclose()
        await self.store.close()

    async def run(self) -> None:
        log.info("worker %s drains %s into %s", self.consumer, self.stream, self.settings.database_url.split("@")[-1])
        delay = 0.1
        while not self.stopping.is_set():
            try:
                await self._ensure_group()
                await self._drain()
                delay = 0.1
            except (RedisError, OSError) as exc:
                log.warning("Redis unavailable (%r); retrying in %.1fs", exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, 5.0)
        log.info("worker %s stopped", self.consumer)

    async def _ensure_group(self) -> None:
        try:
            # From 0: after Redis lost its data the stream starts over, and everything in it is unwritten.
            await self.redis.xgroup_create(self.stream, PERSIST_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            if loop.time() >= self._next_maintenance:
                self._next_maintenance = loop.time() + MAINTAIN_EVERY_S
                await self._claim_abandoned()
                await self._maintain()
            try:
                reply = cast(list[tuple[bytes, list[Entry]]], await self.redis.xreadgroup(
                    PERSIST_GROUP, self.consumer, {self.stream: ">"}, count=BATCH, block=BLOCK_MS))
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis lost the stream and its group: start over
                    log.warning("the persistence stream's consumer group is gone; recreating it")
                    return
                raise
            for _stream, entries in reply or []:
                await self._persist(entries)

    async def _claim_abandoned(self) -> None:
        """Take over entries another worker read but never acknowledged for claim_idle_s (it died)."""
        cursor: bytes | str = "0-0"
        while not self.stopping.is_set():
            cursor, entries, _deleted = cast(tuple[bytes, list[Entry], list[bytes]], await self.redis.xautoclaim(
                self.stream, PERSIST_GROUP, self.consumer, self.claim_idle_ms, cursor, count=BATCH))
            if entries:
                CLAIMED.inc(len(entries))
                log.info("claimed %d entries a stopped worker left pending", len(entries))
                await self._persist(entries)
            if cursor in (b"0-0", "0-0"):
                return

    async def _persist(self, entries: list[Entry]) -> None:
        messages: list[Message] = []
        for entry_id, fields in entries:
            try:
                messages.append(layout.decode_message(int(fields[b"s"]), fields[b"d"]))
            except Exception:  # an entry no code can read would block the stream forever: log it loudly
                log.error("skipping undecodable persistence entry %s: %r", entry_id, fields)
        if not await self._write(messages):
            return  # stopping while the database is down: the entries stay pending for the next worker
        await self.redis.xack(self.stream, PERSIST_GROUP, *[entry_id for entry_id, _ in entries])
        WRITTEN.inc(len(messages))
        BATCHES.inc()

    async def _write(self, messages: list[Message]) -> bool:
        delay = 0.1
        while True:
            try:
                await self.store.write_messages(messages)
                return True
            except Exception as exc:
                if self.stopping.is_set():
                    return False
                log.warning("writing %d messages failed (%r); retrying in %.1fs", len(messages), exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, 5.0)

    async def _maintain(self) -> None:
        await self._trim()
        messages, seconds = await persist_lag(self.redis, self.stream)
        LAG.set(messages)
        LAG_SECONDS.set(seconds)
        loop = asyncio.get_running_loop()
        if messages and loop.time() >= self._next_lag_log:
            self._next_lag_log = loop.time() + LAG_LOG_EVERY_S
            log.info("persistence lag: %d messages, oldest %.1fs", messages, seconds)
        await self._forget_dead_consumers()

    async def _trim(self) -> None:
        """Drop acknowledged entries: below the oldest pending one, or up to the last delivered if none pends.
        The group's last-delivered id is read before the pending list, so nothing delivered in between (and so
        not yet written) can fall below the trim point."""
        groups = await self.redis.xinfo_groups(self.stream)
        group = next((g for g in groups if g.get("name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
        if group is None:
            return
        last = group["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else last
        pending = await self.redis.xpending(self.stream, PERSIST_GROUP)
        if pending["pending"]:
            min_id = pending["min"].decode() if isinstance(pending["min"], bytes) else pending["min"]
        else:
            ms, _, seq = last.partition("-")
            min_id = f"{ms}-{int(seq) + 1}"
        if min_id != "0-1":
            await self.redis.xtrim(self.stream, minid=min_id, approximate=False)

    async def _forget_dead_consumers(self) -> None:
        for consumer in await self.redis.xinfo_consumers(self.stream, PERSIST_GROUP):
            name = consumer["name"]
            if consumer["pending"] == 0 and consumer["idle"] > DEAD_CONSUMER_IDLE_MS and name != self.consumer.encode():
                await self.redis.xgroup_delconsumer(self.stream, PERSIST_GROUP, name)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass


async def run_worker(settings: Settings) -> None:
    """The `helpline worker` process: runs until SIGTERM or SIGINT, then stops after the batch in hand."""
    worker = PersistenceWorker(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host, registry=REGISTRY)
        log.info("worker metrics on http://%s:%d/metrics", settings.host, settings.worker_metrics_port)
    # Webhooks are delivered from the persistence side: the dispatcher shares the worker's store and stop signal.
    webhooks = asyncio.create_task(run_dispatcher(settings, worker.stopping, worker.store), name="webhooks")
    try:
        await worker.run()
    finally:
        worker.stop()
        try:
            await asyncio.wait_for(webhooks, settings.webhook_timeout_s + 5)
        except Exception:
            log.exception("the webhook dispatcher did not stop cleanly")
        await worker.close()
