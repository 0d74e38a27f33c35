"""The Redis bus: any number of gateway nodes share one commit point, one recent history and presence.

This module wires the node and fans events out; a commit is one Lua script (commits.py: seq, idempotency,
persistence stream, recent stream, publish; with min_replicas, WAIT and the publish behind it in the same write),
a join's reads another (catch_up.py). The worker (persistence/worker.py) drains the stream into the database.
Redis errors surface as Unavailable, never as an ack.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from support.core.stores import MessageStore
from realtime import metrics
from realtime.bus.redis import layout as layout
from realtime.bus.redis import scripts as scripts
from support.core.bus import BusEvent, CommitResult, Draft, EventSink, MessageEvent, PresenceEvent, TicketEvent
from support.core.errors import Unavailable
from realtime.bus.redis.failures import redis_errors
from realtime.bus.redis.catch_up import CatchUp
from realtime.bus.redis.cluster import ClusterPipe, ShardChannels, ShardedSubscriber, SlotMap
from realtime.bus.redis.commits import Commits
from realtime.bus.redis.fanout import ChannelSubscriber
from realtime.bus.redis.presence import RedisPresence
from support.core.stream import persist_lag_of
from realtime.bus.redis.sentinel import Connections
from realtime.bus.redis.wire import CommandPipe, ReplyError
from support.core.redis_url import parse_redis_url
from support.core.model import Message, TicketView

log = logging.getLogger("helpline.bus.redis")

RECENT_PER_TICKET = 500  # approximate cap of a ticket's recent-history stream (MAXLEN ~)
# With MIN_REPLICAS, how far a node's first message of a ticket looks back for one that crossed it: far more than
# one ticket's commits in flight at once on other gateways (a thread has a handful of writers).
CROSSING_LOOK_BACK = 32
LAG_EVERY_S = 2.0
CLUSTER_LAG_EVERY_S = 10.0  # on a cluster the lag is 128 streams' groups: read less often
MAX_CONNECTIONS = 64
CLOSE_STEP_S = 3.0  # the longest each step of close() may take


class RedisBus(RedisPresence):
    """The Broker and Presence ports on Redis (presence itself: presence.py)."""

    def __init__(
        self,
        url: str,
        store: MessageStore,
        prefix: str = "helpline",
        presence_ttl_s: float = 30.0,
        recent_max: int = RECENT_PER_TICKET,
        min_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> None:
        # Bounded and blocking: a burst of commits queues for a connection instead of opening thousands.
        self._connections = Connections(
            parse_redis_url(url),
            max_connections=MAX_CONNECTIONS,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=10,
            client_name=f"{prefix}:gateway",
        )  # CLIENT LIST
        target = self._connections.target
        self._cluster = target.cluster
        self._scripts = scripts.Scripts(cluster=target.cluster)  # on a cluster they publish with SPUBLISH
        endpoint = self._connections.endpoint
        self._publish = "SPUBLISH" if target.cluster else "PUBLISH"  # sharded pub/sub on a cluster
        self._slots = SlotMap(endpoint, target.cluster_nodes, f"{prefix}:gateway") if target.cluster else None

        # Commits, publishes and a join's reads, pipelined (on a cluster: one pipelined connection per primary,
        # routed by slot); the pooled client for everything else.
        def pipe() -> CommandPipe | ClusterPipe:
            name = f"{prefix}:gateway"
            return ClusterPipe(self._slots, name) if self._slots is not None else CommandPipe(endpoint, name=name)

        commands = pipe()
        # With min_replicas the commits get a pipelined connection of their own: a WAIT holds its connection until the
        # replicas answer (the publish behind it waits with it, on purpose), and the joins' reads and presence must
        # not queue behind that.
        self._commit_pipe = pipe() if min_replicas else commands
        super().__init__(
            self._connections.redis,
            commands,
            layout.Keys(prefix, cluster=target.cluster),
            presence_ttl_s,
            self._scripts,
        )
        self._commands: CommandPipe | ClusterPipe = commands
        self._min_replicas = min_replicas
        self._filling: dict[str, list[MessageEvent]] = {}  # tickets whose gap is being read: what arrives waits
        self._background: set[asyncio.Task[None]] = set()
        self._sweep_every_s = max(0.05, min(presence_ttl_s / 4, 5.0))
        self._sink: EventSink = lambda _ticket, _event: None
        self._tickets_by_channel: dict[bytes, str] = {}  # keyed as the subscriber hands channels on: bytes
        self._delivered_seq: dict[str, int] = {}
        self._queue_channels = frozenset(channel.encode() for channel in self._keys.queue_channels)
        self._queue_shards = ShardChannels(self._slots, self._keys.queue_channels) if self._slots else None
        self._subscriber: ChannelSubscriber | ShardedSubscriber = (
            ShardedSubscriber(self._slots, f"{prefix}:gateway", self._on_payload, self._fill_gaps)
            if self._slots is not None
            else ChannelSubscriber(endpoint, f"{prefix}:gateway", self._on_payload, self._fill_gaps)
        )
        self._maintenance: asyncio.Task[None] | None = None
        self._commits = Commits(
            commands,
            self._commit_pipe,
            self._keys,
            self._scripts,
            store,
            recent_max,
            min_replicas,
            wait_timeout_ms,
        )
        self._catch_up = CatchUp(commands, self._keys, self._scripts, replicated=min_replicas > 0)

    # -- life cycle --------------------------------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._subscriber.start(*self._queue_channels)
        self._maintenance = asyncio.create_task(self._maintain(), name="redis-bus-maintenance")
        self._watch(self._connections.watch_switches(self._primary_switched), "sentinel-switch-watch")

    def _watch(self, work: Any, name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _primary_switched(self) -> None:
        """A failover: drop the connections to the old primary now; they reconnect to the new one."""
        self._commands.drop()
        self._commit_pipe.drop()
        self._subscriber.drop()

    async def close(self) -> None:
        await self._commits.close()
        if self._maintenance:
            self._maintenance.cancel()
        tasks = [*self._background, *([self._maintenance] if self._maintenance else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_STEP_S)
        # Each step bounded: a connection half gone (a sentinel or primary that stopped answering mid-close) must
        # not hold a shutting-down node, or a test's event loop, forever.
        for step, what in (
            (self._subscriber.close, "the pub/sub connection"),
            (self._commands.close, "the command pipe"),
            (self._commit_pipe.close, "the commit pipe"),
            (self._connections.close, "the pooled connections"),
        ):
            try:
                await asyncio.wait_for(step(), CLOSE_STEP_S)
            except (asyncio.TimeoutError, Exception) as exc:
                log.warning("closing %s did not finish (%r); left to the process's exit", what, exc)

    async def ready(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), 2.0)) and self._subscriber.connected
        except Exception:
            return False

    # -- commit and history ------------------------------------------------------------------------------------
    async def commit(self, draft: Draft) -> CommitResult:
        return await self._commits.commit(draft)

    async def recent(self, ticket: str, after_seq: int) -> list[Message] | None:
        return await self._catch_up.recent(ticket, after_seq)

    async def catch_up(self, ticket: str, after_seq: int) -> tuple[list[Message] | None, dict[str, int] | None]:
        await self._commits.seeded(ticket)  # the first join of a ticket here: the seed fills what it reads
        return await self._catch_up.catch_up(ticket, after_seq)

    async def keep_read_cursors(self, ticket: str, cursors: dict[str, int]) -> None:
        await self._catch_up.keep_read_cursors(ticket, cursors)

    async def note_read(self, ticket: str, user_id: str, seq: int) -> None:
        await self._catch_up.note_read(ticket, user_id, seq)

    async def forget_recent(self, ticket: str) -> None:
        """Drop a ticket's recent history and read-cursor copy (after an erasure rewrote them): recovery then reads
        the database."""
        async with redis_errors("dropping recent history"):
            await self._redis.delete(self._keys.recent(ticket), self._keys.read_cursors(ticket))

    def _is_subscribed(self, ticket: str) -> bool:
        return self._keys.channel(ticket).encode() in self._tickets_by_channel

    # -- fan-out -----------------------------------------------------------------------------------------------
    async def subscribe(self, ticket: str) -> None:
        channel = self._keys.channel(ticket).encode()
        self._tickets_by_channel[channel] = ticket
        self._delivered_seq.pop(ticket, None)
        self._commits.seed_ahead(ticket)
        await self._subscriber.add(channel)

    async def unsubscribe(self, ticket: str) -> None:
        channel = self._keys.channel(ticket).encode()
        self._tickets_by_channel.pop(channel, None)
        self._delivered_seq.pop(ticket, None)
        self._presence_shown.pop(ticket, None)
        await self._subscriber.remove(channel)

    async def publish(self, ticket: str, event: BusEvent) -> None:
        """Typing, read and presence events: ephemeral, so a Redis outage drops them rather than failing."""
        try:
            await self._commands.call(self._publish, self._keys.channel(ticket), layout.encode_event(event))
        except (Unavailable, ReplyError) as exc:
            log.warning("dropped a %s event of %s: %r", type(event).__name__, ticket, exc)

    async def publish_ticket(self, view: TicketView) -> None:
        try:
            await self._commands.call(
                self._publish, self._keys.queue_of(view.id), layout.encode_event(TicketEvent(view))
            )
        except (Unavailable, ReplyError) as exc:
            log.warning("dropped the queue update of %s: %r", view.id, exc)

    async def publish_tickets(self, views: list[TicketView]) -> None:
        by_channel: dict[str, list[TicketView]] = {}
        for view in views:  # on a cluster one publish per shard, not per slot group (ShardChannels)
            channel = self._keys.queue_of(view.id)
            by_channel.setdefault(self._queue_shards.of(channel) if self._queue_shards else channel, []).append(view)
        await asyncio.gather(*(self._publish_views(channel, batch) for channel, batch in by_channel.items()))

    async def _publish_views(self, channel: str, views: list[TicketView]) -> None:
        try:
            await self._commands.call(self._publish, channel, layout.encode_views(views))
        except (Unavailable, ReplyError) as exc:
            log.warning("dropped the queue updates of %d tickets: %r", len(views), exc)

    def _on_payload(self, channel: bytes, payload: bytes) -> None:
        if channel in self._queue_channels:
            for event in layout.decode_queue_payload(payload):
                self._sink(None, event)
            return
        ticket = self._tickets_by_channel.get(channel)
        if ticket is None:
            return  # unsubscribed meanwhile
        event = layout.decode_payload(payload)
        if isinstance(event, MessageEvent):
            if self._min_replicas and self._out_of_order(ticket, event):
                return
            if not self._note_delivered(ticket, event.message.seq):
                return
        if isinstance(event, PresenceEvent):
            self._note_presence(ticket, event.user, event.online)
        self._sink(ticket, event)

    def _note_delivered(self, ticket: str, seq: int) -> bool:
        """Each message goes to the hub once, in order, even when a gap fill and the live channel overlap."""
        if seq <= self._delivered_seq.get(ticket, 0):
            return False
        self._delivered_seq[ticket] = seq
        return True

    def _out_of_order(self, ticket: str, event: MessageEvent) -> bool:
        """Replicated commits are published by the gateway that made them, after their WAIT: across gateways a
        later seq can come first. Hold it, read the gap from the recent history (a later seq is replicated, so
        every earlier one is too), then hand on in order."""
        held = self._filling.get(ticket)
        if held is not None:
            held.append(event)
            return True
        seq, last = event.message.seq, self._delivered_seq.get(ticket)
        if last is None:
            if seq == 1:
                return False  # nothing can have come before it
            # The first message since this node subscribed: one committed before it on another gateway may still
            # be on its way, and no baseline would tell. Everything the node's clients were shown came from a
            # snapshot read after the subscription, so looking back a little and handing on in order (their
            # connections skip what they were shown) is enough.
            last = self._delivered_seq[ticket] = max(0, seq - 1 - CROSSING_LOOK_BACK)
        elif seq <= last + 1:
            return False
        self._filling[ticket] = [event]
        self._watch(self._fill_gap(ticket, last), "redis-bus-gap")
        return True

    async def _fill_gap(self, ticket: str, last: int) -> None:
        """Hand on what the ticket's fill holds and what the recent history has before it, in seq order. Each read
        stops at the highest seq held when it is sent: that one was published, so it and every seq before it are
        replicated and in the history; a later one may still be in its WAIT, and is not handed on. What arrives
        during a read waits for the next."""
        while True:
            upto = max(e.message.seq for e in self._filling.get(ticket, ()))
            try:
                missed = await self._catch_up.recent_between(ticket, last, upto)
            except Unavailable:
                missed = []  # its clients recover the gap on their next join with since
            held = self._filling.get(ticket, [])
            later = [e for e in held if e.message.seq > upto]
            ready = [*missed, *(e.message for e in held if e.message.seq <= upto)]
            for message in sorted(ready, key=lambda m: m.seq):
                if ticket in self._delivered_seq and self._note_delivered(ticket, message.seq):
                    self._sink(ticket, MessageEvent(message))
            if not later or ticket not in self._delivered_seq:
                self._filling.pop(ticket, None)
                return
            self._filling[ticket], last = later, upto

    async def _fill_gaps(self) -> None:
        """After a reconnect: hand on what was committed while this node was not listening, then who came and
        went meanwhile (presence events published during the outage never reached this node)."""
        await self._fill_messages()
        await self._fill_presence()

    async def _fill_presence(self) -> None:
        for ticket in list(self._tickets_by_channel.values()):
            try:
                now = {u.id: u for u in await self.presence_members(ticket)}
            except Unavailable:
                continue
            shown = self._presence_shown.get(ticket, {})
            changes = [PresenceEvent(ticket, u, online=False) for uid, u in shown.items() if uid not in now]
            changes += [PresenceEvent(ticket, u, online=True) for uid, u in now.items() if uid not in shown]
            for event in changes:
                if ticket in self._presence_shown:
                    self._note_presence(ticket, event.user, event.online)
                    self._sink(ticket, event)

    async def _fill_messages(self) -> None:
        for ticket, last in list(self._delivered_seq.items()):
            missed = await self._recent_retried(ticket, last)
            if missed is None:
                log.warning(
                    "ticket %s: messages after %d are beyond the recent history; clients recover them "
                    "on their next join with since",
                    ticket,
                    last,
                )
                continue
            for message in missed:
                if ticket in self._delivered_seq and self._note_delivered(ticket, message.seq):
                    self._sink(ticket, MessageEvent(message))

    async def _recent_retried(self, ticket: str, after_seq: int) -> list[Message] | None:
        """Right after a Redis restart the pool's first connections fail once each: try again before giving up.
        Giving up raises, so the subscriber reconnects and fills again; live messages never jump the gap."""
        for attempt in range(5):
            try:
                return await self.recent(ticket, after_seq)
            except Unavailable:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))
        return None

    # -- background --------------------------------------------------------------------------------------------
    async def _run_all(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """The lag's reads of a cluster's 128 persistence streams, every CLUSTER_LAG_EVERY_S on every node: on the
        bus's pipelined connections, not through redis-py's cluster client (slot, node and packing per command in
        Python, and one stream after another). An error reply comes back as the exception, as in redis-py's
        pipeline."""
        replies = await asyncio.gather(*(self._commands.call(*command) for command in commands), return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException) and not isinstance(reply, ReplyError):
                raise reply  # the connection, not the stream: this round's figure is unknown
        return list(replies)

    async def _maintain(self) -> None:
        """Supervised loop: sweep expired presence, export the persistence lag."""
        loop = asyncio.get_running_loop()
        next_lag = 0.0
        failing = False
        while True:
            try:
                await self.sweep_presence()
                if loop.time() >= next_lag:
                    next_lag = loop.time() + (CLUSTER_LAG_EVERY_S if self._cluster else LAG_EVERY_S)
                    messages, seconds = await persist_lag_of(self._redis, self._keys.persist_streams, self._run_all)
                    metrics.WORKER_LAG.set(messages)
                    metrics.WORKER_LAG_SECONDS.set(seconds)
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:
                    log.warning("bus maintenance failed (%r); retrying", exc)
                failing = True
            await asyncio.sleep(self._sweep_every_s)
