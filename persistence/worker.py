"""`helpline worker`: drains the Redis persistence stream into the database, in batches, exactly once in effect.

A consumer group hands out entries; a batch is written in one transaction (idempotent on (ticket, seq)) and only
then acknowledged; entries a dead worker left pending are claimed; the stream is trimmed below the oldest entry not
yet acknowledged, never further. Several workers may run at once. On a Redis Cluster there is one stream per slot
group (support/core/slot_groups.py), each with its group: the worker reads them all in one pipelined round trip
per node and writes what came as one batch. With HELPLINE_REDIS_MIN_REPLICAS, entries are
written only once that many replicas have them: a failover cannot take back a seq the database already holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from typing import Any, AsyncIterator, cast

from prometheus_client import CollectorRegistry, Counter, Gauge
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from persistence import cluster_reads
from persistence.batch_pipeline import BatchPipeline
from persistence.stream_entries import entries_of, unparsed, decode_entries
from persistence.message_rows import MessageRow
from persistence.store import TicketStore
from support.core import stream
from support.core.redis_url import parse_redis_url, redis_client
from support.core.stream import PERSIST_GROUP, persist_lag_of
from support.core.settings import Settings

log = logging.getLogger("helpline.worker")

BATCH = 10000  # entries per XREADGROUP: large batches amortise the commit, the COPY and the round trips
CLAIM_BATCH = 500
BLOCK_MS = 1000
IDLE_POLL_S = 0.25  # on a cluster, how long the worker waits after a read that found nothing in any stream (the
# 128 streams are polled: a shorter pause costs Redis and the worker CPU for nothing; clients are acked at the commit)
# A trickle (a few messages a read) would cost a transaction, a COPY and an XACK per few messages; waiting a moment
# after a small read lets the next one gather more. Clients are acked at the Redis commit, so only the database
# copy waits; a backlog is read in full batches and never waits.
LINGER_BELOW = 1000
LINGER_S = 0.02
# On a cluster one read is a command per slot group's stream (128, in one round trip per node): a trickle read every
# 20 ms cost the worker ~40 % of a core whatever the rate. Lingering longer there keeps a read's cost per message down;
# the database copy waits at most this much more, and the clients were acked at the commit.
CLUSTER_LINGER_S = 0.1
MAINTAIN_EVERY_S = 1.0
CLUSTER_LAG_EVERY_S = 10.0  # the lag gauge on a cluster: 128 streams' groups to read, as the gateways' bus does
LAG_LOG_EVERY_S = 30.0
DEAD_CONSUMER_IDLE_MS = 3600 * 1000
CONSUMER_CHECK_EVERY_S = 60.0

REGISTRY = CollectorRegistry()  # the worker's own: it shares no process with a gateway's metrics
WRITTEN = Counter("helpline_worker_written_total", "Messages written to the database", registry=REGISTRY)
BATCHES = Counter("helpline_worker_batches_total", "Batches committed to the database", registry=REGISTRY)
CLAIMED = Counter("helpline_worker_claimed_total", "Entries claimed from dead workers", registry=REGISTRY)
LAG = Gauge("helpline_worker_lag", "Committed messages not yet written to the database", registry=REGISTRY)
LAG_SECONDS = Gauge(
    "helpline_worker_lag_seconds", "Age of the oldest committed message not yet written", registry=REGISTRY
)

Entry = stream.Entry


class PersistenceWorker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = TicketStore(settings.database_url)
        self.redis = redis_client(
            parse_redis_url(settings.redis_url or ""),
            socket_connect_timeout=2,
            socket_timeout=10,
            retry=Retry(NoBackoff(), 0),
        )
        self.redis.set_response_callback("XREADGROUP", unparsed)  # decode_entries reads the reply as it came
        target = parse_redis_url(settings.redis_url or "")
        self.cluster = target.cluster
        self.streams = stream.persist_keys(settings.key_prefix, cluster=target.cluster)
        self.stream = self.streams[0]
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.claim_idle_ms = int(settings.worker_claim_idle_s * 1000)
        self.stopping = asyncio.Event()
        self._next_maintenance = 0.0
        self._next_lag = 0.0
        self._next_lag_log = 0.0
        self._next_consumer_check = 0.0
        self._acked_streams: set[str] = set()

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
            except (RedisError, RedisClusterException, OSError) as exc:  # a cluster's slot without a primary too
                log.warning("Redis unavailable (%r); retrying in %.1fs", exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, 5.0)
        log.info("worker %s stopped", self.consumer)

    async def _ensure_group(self) -> None:
        try:
            # From 0: after Redis lost its data the stream starts over, and everything in it is unwritten.
            for key in self.streams:
                await self._create_group(key)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _create_group(self, key: str) -> None:
        try:
            await self.redis.xgroup_create(key, PERSIST_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _drain(self) -> None:
        """Read and decode the next batch while the one before is written, so that the database and this process
        work at once (see BatchPipeline)."""
        loop = asyncio.get_running_loop()
        pipeline = BatchPipeline(self._write, self._ack)
        try:
            while not self.stopping.is_set():
                if loop.time() >= self._next_maintenance:
                    self._next_maintenance = loop.time() + MAINTAIN_EVERY_S
                    await self._claim_abandoned(pipeline)
                    await self._maintain()
                try:
                    if self.cluster:
                        acks, rows, count = await self._read_groups()
                    else:
                        async with self._reader() as reader:
                            entries = entries_of(
                                await reader.xreadgroup(
                                    PERSIST_GROUP, self.consumer, {self.stream: ">"}, count=BATCH, block=BLOCK_MS
                                )
                            )
                            if entries and not await self._replicated(reader):
                                continue  # stopping: the entries stay pending, claimed by the next worker
                        ids, rows = decode_entries(entries)
                        acks, count = {self.stream: ids}, len(entries)
                except ResponseError as exc:
                    if "NOGROUP" in str(exc):  # Redis lost the stream and its group: start over
                        log.warning("the persistence stream's consumer group is gone; recreating it")
                        return
                    raise
                if count:
                    await pipeline.put(acks, rows)
                    if count < LINGER_BELOW:
                        await asyncio.sleep(CLUSTER_LINGER_S if self.cluster else LINGER_S)
                elif self.cluster:
                    await self._pause(IDLE_POLL_S)  # nothing in any group's stream (they are polled, not blocked on)
        finally:
            await pipeline.flush()

    async def _read_groups(self) -> tuple[dict[str, list[bytes]], list[MessageRow], int]:
        """On a cluster: the next entries of every slot group's stream, in one pipelined round trip per node (a
        blocking read would hold a node's connection per stream). Rows keep each stream's order, so each ticket's.
        With min_replicas, what a node's replicas did not confirm stays pending, unwritten (see cluster_reads)."""
        share = max(100, BATCH // len(self.streams))
        commands = [
            (key, ("XREADGROUP", "GROUP", PERSIST_GROUP, self.consumer, "COUNT", share, "STREAMS", key, ">"))
            for key in self.streams
        ]
        replies = await self._per_node(commands)
        acks: dict[str, list[bytes]] = {}
        rows: list[MessageRow] = []
        count = 0
        for key, reply in zip(self.streams, replies):
            if isinstance(reply, ResponseError) and "NOGROUP" in str(reply):
                log.warning("the consumer group of %s is gone; recreating it", key)
                await self._create_group(key)
                continue
            if isinstance(reply, Exception):
                raise reply
            if reply is cluster_reads.SHORT:
                self._log_short(key)
                continue
            entries = entries_of(reply)
            if entries:
                ids, decoded = decode_entries(entries)
                acks[key], count = ids, count + len(entries)
                rows += decoded
        return acks, rows, count

    async def _per_node(self, commands: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """On a cluster: the commands in one pipelined round trip per node, each reply checked against that node's
        replicas when min_replicas asks for it (cluster_reads.SHORT where they did not confirm)."""
        return await cluster_reads.replicated(
            cast(RedisCluster, self.redis),
            commands,
            self.settings.redis_min_replicas,
            self.settings.redis_wait_timeout_ms,
        )

    def _log_short(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_lag_log:
            self._next_lag_log = loop.time() + LAG_LOG_EVERY_S
            log.warning("the replicas of %s's node did not confirm what was read; it stays pending until they do", key)

    async def _claim_abandoned(self, pipeline: BatchPipeline) -> None:
        """Take over entries another worker read but never acknowledged for claim_idle_s (it died); they are
        written like any batch, in the pipeline's order."""
        if not self.cluster:
            await self._claim_abandoned_of(self.stream, pipeline)
            return
        # Every slot group's stream at once, in one pipelined round trip per node (one XAUTOCLAIM, and with
        # min_replicas one WAIT, per stream in turn was 128 round trips a second); a stream with more than a
        # page to claim goes on in the next round trip.
        cursors: dict[str, bytes | str] = dict.fromkeys(self.streams, "0-0")
        while cursors and not self.stopping.is_set():
            cursors = await self._claim_pages(cursors, pipeline)

    async def _claim_pages(self, cursors: dict[str, bytes | str], pipeline: BatchPipeline) -> dict[str, bytes | str]:
        """On a cluster: one page of XAUTOCLAIM from each stream's cursor; the cursors of those not done."""
        commands = [
            (key, ("XAUTOCLAIM", key, PERSIST_GROUP, self.consumer, self.claim_idle_ms, cursor, "COUNT", CLAIM_BATCH))
            for key, cursor in cursors.items()
        ]
        replies = await self._per_node(commands)
        acks: dict[str, list[bytes]] = {}
        rows: list[MessageRow] = []
        following: dict[str, bytes | str] = {}
        for key, reply in zip(cursors, replies):
            if isinstance(reply, Exception):
                raise reply
            if reply is cluster_reads.SHORT:
                self._log_short(key)
                continue  # claimed again (by XAUTOCLAIM) once the replicas answer
            cursor, entries, _deleted = cast(tuple[bytes, list[Entry], list[bytes]], reply)
            if entries:
                acks[key], decoded = decode_entries(entries)
                rows += decoded
            if cursor not in (b"0-0", "0-0"):
                following[key] = cursor
        if rows:
            CLAIMED.inc(len(rows))
            log.info("claimed %d entries a stopped worker left pending", len(rows))
            await pipeline.put(acks, rows)
        return following

    async def _claim_abandoned_of(self, key: str, pipeline: BatchPipeline) -> None:
        """One stream's abandoned entries (one Redis, or Sentinel), page by page."""
        cursor: bytes | str = "0-0"
        while not self.stopping.is_set():
            async with self._reader() as reader:
                cursor, entries, _deleted = cast(
                    tuple[bytes, list[Entry], list[bytes]],
                    await reader.xautoclaim(
                        key, PERSIST_GROUP, self.consumer, self.claim_idle_ms, cursor, count=CLAIM_BATCH
                    ),
                )
                if entries and not await self._replicated(reader):
                    return
            if entries:
                CLAIMED.inc(len(entries))
                log.info("claimed %d entries a stopped worker left pending", len(entries))
                ids, rows = decode_entries(entries)
                await pipeline.put({key: ids}, rows)
            if cursor in (b"0-0", "0-0"):
                return

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[Redis]:
        """The client to read entries with: with min_replicas, one connection of its own, since WAIT counts the
        writes of the connection it is sent on (the read is one: it moves the group's cursor)."""
        if not self.settings.redis_min_replicas:
            yield self.redis
            return
        async with self.redis.client() as reader:
            reader.set_response_callback("XREADGROUP", unparsed)
            yield reader

    async def _replicated(self, reader: Redis) -> bool:
        """Wait until min_replicas replicas have everything read so far (so a failover keeps it); False when
        stopping first. Replicas down means the worker waits, as the gateways' commits do."""
        wanted = self.settings.redis_min_replicas
        if not wanted:
            return True
        while True:
            replicas = await reader.execute_command(  # type: ignore[no-untyped-call]
                "WAIT", wanted, self.settings.redis_wait_timeout_ms
            )
            if int(replicas) >= wanted:
                return True
            if self.stopping.is_set():
                return False
            loop = asyncio.get_running_loop()
            if loop.time() >= self._next_lag_log:
                self._next_lag_log = loop.time() + LAG_LOG_EVERY_S
                log.warning(
                    "%d of %d replicas have the stream's latest entries; waiting before writing them", replicas, wanted
                )

    async def _ack(self, acks: dict[str, list[bytes]], written: int) -> None:
        self._acked_streams.update(acks)
        if len(acks) == 1:
            for key, ids in acks.items():
                await self.redis.xack(key, PERSIST_GROUP, *ids)
        else:  # many slot groups' streams: one pipelined round trip per node
            pipe = self.redis.pipeline(transaction=False)
            for key, ids in acks.items():
                pipe.execute_command("XACK", key, PERSIST_GROUP, *ids)
            await pipe.execute()
        WRITTEN.inc(written)
        BATCHES.inc()

    async def _write(self, rows: list[MessageRow]) -> bool:
        delay = 0.1
        while True:
            try:
                await self.store.write_rows(rows)
                return True
            except Exception as exc:
                if self.stopping.is_set():
                    return False
                log.warning("writing %d messages failed (%r); retrying in %.1fs", len(rows), exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, 5.0)

    async def _maintain(self) -> None:
        # Only the streams this worker acknowledged entries of since the last time need a trim (a cluster's
        # slot groups are many; most are quiet at any one moment).
        touched, self._acked_streams = (self.streams if not self.cluster else sorted(self._acked_streams)), set()
        for key in touched:
            await self._trim(key)
        await self._export_lag()
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_consumer_check:
            self._next_consumer_check = loop.time() + CONSUMER_CHECK_EVERY_S
            for key in self.streams:
                await self._forget_dead_consumers(key)

    async def _export_lag(self) -> None:
        """The lag gauges, and a log line now and then while behind; on a cluster every CLUSTER_LAG_EVERY_S."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_lag:
            return
        self._next_lag = loop.time() + (CLUSTER_LAG_EVERY_S if self.cluster else MAINTAIN_EVERY_S)
        messages, seconds = await persist_lag_of(self.redis, self.streams)
        LAG.set(messages)
        LAG_SECONDS.set(seconds)
        if messages and loop.time() >= self._next_lag_log:
            self._next_lag_log = loop.time() + LAG_LOG_EVERY_S
            log.info("persistence lag: %d messages, oldest %.1fs", messages, seconds)

    async def _trim(self, key: str) -> None:
        """Drop acknowledged entries: below the oldest pending one, or up to the last delivered if none pends.
        The group's last-delivered id is read before the pending list, so nothing delivered in between (and so
        not yet written) can fall below the trim point."""
        groups = await self.redis.xinfo_groups(key)
        group = next((g for g in groups if g.get("name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
        if group is None:
            return
        last = group["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else last
        pending = await self.redis.xpending(key, PERSIST_GROUP)
        if pending["pending"]:
            min_id = pending["min"].decode() if isinstance(pending["min"], bytes) else pending["min"]
        else:
            ms, _, seq = last.partition("-")
            min_id = f"{ms}-{int(seq) + 1}"
        if min_id != "0-1":
            await self.redis.xtrim(key, minid=min_id, approximate=False)

    async def _forget_dead_consumers(self, key: str) -> None:
        for consumer in await self.redis.xinfo_consumers(key, PERSIST_GROUP):
            name = consumer["name"]
            if consumer["pending"] == 0 and consumer["idle"] > DEAD_CONSUMER_IDLE_MS and name != self.consumer.encode():
                await self.redis.xgroup_delconsumer(key, PERSIST_GROUP, name)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass
