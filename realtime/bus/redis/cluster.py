"""The hot path on a Redis Cluster: the same pipelined wire (wire.py) and pub/sub connections (fanout.py), one per
primary, routed by slot. MOVED and ASK are followed (a live reshard), and a lost node makes the slot map be read
again (a failover promoted its replica). A command that may have run is never retried: it fails with Unavailable,
so nothing is acked that Redis did not confirm (a client's retry with its client_id is idempotent).

Everything else (reads, presence, the worker) goes through redis-py's RedisCluster, which does the same for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Awaitable, Callable, Sequence

from realtime.bus.redis.fanout import ChannelSubscriber, PayloadSink
from realtime.bus.redis.wire import CommandPipe, Endpoint, ReplyError, open_wire
from support.core.errors import Unavailable
from support.core.slot_groups import SLOTS, key_slot

log = logging.getLogger("helpline.bus.cluster")

Address = tuple[str, int]
REDIRECTS = 5  # MOVED / ASK / TRYAGAIN followed per command before it fails (a reshard moves a slot at a time)
RETRY_PAUSE_S = 0.05
RECONCILE_EVERY_S = 5.0  # a safety net: slot changes are signalled (a MOVED, a node's own unsubscribe, a lost node)


class SlotMap:
    """Which primary serves each slot, as CLUSTER SLOTS says; read again after a MOVED or a lost node."""

    def __init__(self, endpoint: Endpoint, seeds: Sequence[Address], name: str) -> None:
        self._endpoint = endpoint
        self._seeds = list(seeds)
        self._name = name
        self._owners: list[Address | None] = [None] * SLOTS
        self._refreshing: asyncio.Task[None] | None = None
        self._ranges: tuple[tuple[int, int, str, int], ...] = ()  # the last CLUSTER SLOTS taken: (start, end, primary)
        self._moved = False
        self.version = 0  # bumped on every change: subscribers compare it
        self.on_change: Callable[[], None] = lambda: None

    def endpoint_of(self, address: Address) -> Endpoint:
        return dataclasses.replace(self._endpoint, host=address[0], port=address[1], db=0)

    def owner(self, slot: int) -> Address | None:
        return self._owners[slot]

    def primaries(self) -> set[Address]:
        return {a for a in self._owners if a is not None}

    def moved(self, slot: int, address: Address) -> None:
        """A MOVED reply: that slot is served there now (the rest of the map is read again in the background)."""
        self._owners[slot] = address
        self._moved = True  # the owners no longer match the last CLUSTER SLOTS: the next one is taken in full
        self.version += 1
        self.on_change()
        self.refresh_soon()

    def refresh_soon(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.get_running_loop().create_task(self.refresh(), name="redis-cluster-slots")
            self._refreshing.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def ready(self) -> None:
        if self._owners[0] is None and not any(self._owners):
            await self.refresh()

    def _take(self, asked: Address, reply: list[Any]) -> None:
        """The owners of CLUSTER SLOTS' ranges. Every node reads it every RECONCILE_EVERY_S, and nearly always it
        is what it was: then the 16,384 owners are left as they are (filling and comparing them cost ~6 ms)."""
        ranges = tuple(
            (int(start), int(end), primary[0].decode() or asked[0], int(primary[1]))
            for start, end, primary, *_replicas in reply
        )
        if ranges == self._ranges and not self._moved:
            return
        owners: list[Address | None] = [None] * SLOTS
        for start, end, host, port in ranges:
            owners[start : end + 1] = [(host, port)] * (end + 1 - start)
        self._ranges, self._moved = ranges, False
        if owners != self._owners:
            self._owners = owners
            self.version += 1
            self.on_change()

    async def refresh(self) -> None:
        """Ask the known primaries, then the URL's nodes, until one answers CLUSTER SLOTS."""
        failures = []
        for address in [*sorted(self.primaries()), *self._seeds]:
            try:
                wire = await open_wire(self.endpoint_of(address), self._name, timeout_s=1.0)
            except Unavailable as exc:
                failures.append(f"{address[0]}:{address[1]} {exc}")
                continue
            try:
                reply = await asyncio.wait_for(wire.request(("CLUSTER", "SLOTS")), 2.0)
            except (Unavailable, asyncio.TimeoutError) as exc:
                failures.append(f"{address[0]}:{address[1]} {exc!r}")
                continue
            finally:
                wire.abort()
            if isinstance(reply, ReplyError) or not reply:
                failures.append(f"{address[0]}:{address[1]} {reply}")
                continue
            self._take(address, reply)
            return
        raise Unavailable(f"no Redis Cluster node answered: {'; '.join(failures) or 'none known'}")


def _redirect(reply: ReplyError) -> tuple[str, int, Address] | None:
    """("MOVED" | "ASK", slot, address) of a redirect reply, else None."""
    kind, _, rest = str(reply).partition(" ")
    if kind not in ("MOVED", "ASK"):
        return None
    slot, _, where = rest.partition(" ")
    host, _, port = where.rpartition(":")
    return kind, int(slot), (host, int(port))


def key_of(args: Sequence[Any]) -> Any:
    """The key a command on these pipes routes by: a script's first key, the stream of an XINFO <sub> (the bus's lag),
    or the key or channel after the name (a (S)PUBLISH, an XRANGE)."""
    name = args[0]
    if name in ("EVALSHA", "EVAL"):
        return args[3]
    if name == "XINFO":
        return args[2]
    return args[1]


class ClusterPipe:
    """CommandPipe's interface over a cluster: one pipelined connection per primary, each command sent to the
    primary of its key's slot."""

    def __init__(self, slots: SlotMap, name: str) -> None:
        self._slots = slots
        self._name = name
        self._pipes: dict[Address, CommandPipe] = {}

    def _pipe(self, address: Address) -> CommandPipe:
        pipe = self._pipes.get(address)
        if pipe is None:
            pipe = self._pipes[address] = CommandPipe(self._slots.endpoint_of(address), self._name)
        return pipe

    async def call(self, *args: Any) -> Any:
        # The hot path (commits, publishes): straight to the slot's primary; a redirect goes the long way round.
        slot = key_slot(key_of(args))
        address = self._slots.owner(slot)
        if address is not None:
            try:
                return await self._pipe(address).call(*args)
            except Unavailable:
                self._slots.refresh_soon()  # the node may be gone: a replica takes its slots
                raise
            except ReplyError as exc:
                self._redirected(exc)
        return await self._routed(args, lambda pipe, asking: pipe.call_asking(*args) if asking else pipe.call(*args))

    def _redirected(self, exc: ReplyError) -> None:
        """A first try's error reply: a redirect or a slot in flux goes on the long way round (_routed), nothing
        having run; any other error is the caller's."""
        redirect = _redirect(exc)
        if redirect is None and not str(exc).startswith(("TRYAGAIN", "CLUSTERDOWN")):
            raise exc
        if redirect is not None and redirect[0] == "MOVED":
            self._slots.moved(redirect[1], redirect[2])  # sent again where it lives now

    async def call_replicated(
        self, replicas: int, timeout_ms: int, command: Sequence[Any], then: Sequence[Any]
    ) -> tuple[Any, Any]:
        # As call(): every replicated commit straight to its slot's primary; only a redirect takes _routed.
        address = self._slots.owner(key_slot(key_of(command)))
        if address is not None:
            try:
                replied: tuple[Any, Any] = await self._pipe(address).call_replicated(
                    replicas, timeout_ms, command, then
                )
                return replied
            except Unavailable:
                self._slots.refresh_soon()
                raise
            except ReplyError as exc:
                self._redirected(exc)
        return await self._replicated_routed(replicas, timeout_ms, command, then)

    async def _replicated_routed(
        self, replicas: int, timeout_ms: int, command: Sequence[Any], then: Sequence[Any]
    ) -> tuple[Any, Any]:
        async def on(pipe: CommandPipe, asking: bool) -> tuple[Any, Any]:
            if not asking:
                return await pipe.call_replicated(replicas, timeout_ms, command, then)
            # An ASK is a slot half-way through a reshard: rare. The WAIT after it on the same connection, and
            # `then` only once it says the replicas have it.
            reply = await pipe.call_asking(*command)
            acked = int(await pipe.call("WAIT", replicas, timeout_ms))
            if acked < replicas:
                raise Unavailable(f"commit reached {acked} of {replicas} replicas in {timeout_ms} ms")
            try:
                return reply, await pipe.call_asking(*then)
            except ReplyError as exc:
                return reply, exc

        routed: tuple[Any, Any] = await self._routed(command, on)
        return routed

    async def _routed(self, args: Sequence[Any], send: Callable[[CommandPipe, bool], Awaitable[Any]]) -> Any:
        slot = key_slot(key_of(args))
        asking: Address | None = None
        for attempt in range(REDIRECTS + 1):
            address = asking or self._slots.owner(slot)
            if address is None:
                await self._slots.refresh()
                address = self._slots.owner(slot)
                if address is None:
                    raise Unavailable(f"no Redis Cluster primary serves slot {slot}")
            try:
                return await send(self._pipe(address), asking is not None)
            except Unavailable:
                self._slots.refresh_soon()  # the node may be gone: a replica takes its slots
                raise
            except ReplyError as exc:
                redirect = _redirect(exc)
                text = str(exc)
                if redirect is not None and redirect[0] == "MOVED":
                    self._slots.moved(redirect[1], redirect[2])
                    asking = None
                elif redirect is not None:
                    asking = redirect[2]
                elif text.startswith(("TRYAGAIN", "CLUSTERDOWN")) and attempt < REDIRECTS:
                    # Keys of one slot split between two nodes mid-reshard, or a failover in progress: nothing ran.
                    asking = None
                    self._slots.refresh_soon()
                    await asyncio.sleep(RETRY_PAUSE_S * (attempt + 1))
                else:
                    raise
        raise Unavailable(f"Redis Cluster kept redirecting slot {slot}")

    def drop(self) -> None:
        for pipe in self._pipes.values():
            pipe.drop()

    async def close(self) -> None:
        for pipe in self._pipes.values():
            await pipe.close()
        self._pipes.clear()


class ShardChannels:
    """Of many channels that every node subscribes to (the agents' queue: one per slot group), one per shard: the
    updates of all the slot groups a primary serves go out as one SPUBLISH there (on the first such group's channel),
    not one per group, and every node hears them all the same. Follows the slot map (a reshard moves groups)."""

    def __init__(self, slots: SlotMap, channels: Sequence[str]) -> None:
        self._slots = slots
        self._channels = list(channels)
        self._version = -1
        self._shared: dict[str, str] = {}

    def of(self, channel: str) -> str:
        if self._version != self._slots.version:
            self._version = self._slots.version
            first: dict[Address, str] = {}
            self._shared = {}
            for each in self._channels:
                owner = self._slots.owner(key_slot(each))
                self._shared[each] = each if owner is None else first.setdefault(owner, each)
        return self._shared.get(channel, channel)


class ShardedSubscriber:
    """ChannelSubscriber's interface over a cluster: SSUBSCRIBE each channel on the primary of its slot, and move
    channels when their slot moves (reshard, failover). A move subscribes at the new primary first, then lets the
    bus fill the gap from the recent history, holding what arrives meanwhile: nothing is missed or shown twice."""

    def __init__(
        self, slots: SlotMap, name: str, on_payload: PayloadSink, on_resubscribed: Callable[[], Awaitable[None]]
    ) -> None:
        self._slots = slots
        self._name = name
        self._on_payload = on_payload
        self._on_resubscribed = on_resubscribed
        self._wanted: set[bytes] = set()
        self._placed: dict[bytes, Address] = {}
        self._standing: set[bytes] = set()  # the channels of start() (the agents' queue): always subscribed
        self._confirmed: set[bytes] = set()  # channels whose subscription Redis confirmed where they are placed
        self._nodes: dict[Address, ChannelSubscriber] = {}
        self._held: list[tuple[bytes, bytes]] | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        slots.on_change = self._changed.set

    @property
    def connected(self) -> bool:
        """Every node in use is connected and the standing channels are confirmed: until the queue channel's shard
        said so, a queue update published now would reach nobody here (the bus is not ready yet)."""
        used = set(self._placed.values())
        return (
            bool(self._nodes)
            and self._standing <= self._confirmed
            and all(self._nodes[a].connected for a in used if a in self._nodes)
        )

    def start(self, *channels: bytes) -> None:
        self._wanted.update(channels)
        self._standing.update(channels)
        self._task = asyncio.create_task(self._run(), name="redis-cluster-pubsub")

    def _node(self, address: Address) -> ChannelSubscriber:
        node = self._nodes.get(address)
        if node is None:
            node = self._nodes[address] = ChannelSubscriber(
                self._slots.endpoint_of(address),
                self._name,
                self._hand_on,
                self._resubscribed,
                sharded=True,
                on_moved=lambda _channel: self._changed.set(),
            )
            node.start()
        return node

    def _hand_on(self, channel: bytes, payload: bytes) -> None:
        if self._held is not None:
            self._held.append((channel, payload))
        else:
            self._on_payload(channel, payload)

    async def _resubscribed(self) -> None:
        self._slots.refresh_soon()  # a node's connection came back: maybe not as a primary
        self._changed.set()
        await self._on_resubscribed()

    async def add(self, channel: bytes) -> None:
        self._wanted.add(channel)
        await self._slots.ready()
        address = self._slots.owner(key_slot(channel))
        if address is None:
            raise Unavailable("live updates are unavailable (no Redis Cluster primary serves the ticket)")
        node = self._node(address)
        for _ in range(100):  # a node's connection comes up in the background
            if node.connected:
                break
            await asyncio.sleep(0.02)
        self._placed[channel] = address
        self._confirmed.discard(channel)
        await node.add(channel)
        if self._placed.get(channel) == address:
            self._confirmed.add(channel)

    async def remove(self, channel: bytes) -> None:
        self._wanted.discard(channel)
        self._confirmed.discard(channel)
        address = self._placed.pop(channel, None)
        if address is not None and address in self._nodes:
            await self._nodes[address].remove(channel)

    def drop(self) -> None:
        for node in self._nodes.values():
            node.drop()
        self._changed.set()

    async def _run(self) -> None:
        """Place the wanted channels; then, when the slot map changed, a node unsubscribed a channel by itself or a
        connection was lost (and every RECONCILE_EVERY_S anyway), move what moved."""
        version = -1
        while True:
            try:
                await self._slots.refresh()
                if self._slots.version != version or any(
                    self._placed.get(c) != self._slots.owner(key_slot(c)) for c in self._wanted
                ):
                    await self._reconcile()
                version = self._slots.version
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("placing sharded subscriptions failed (%r); retrying", exc)
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), RECONCILE_EVERY_S)
            except asyncio.TimeoutError:
                pass

    async def _reconcile(self) -> None:
        moving = [c for c in self._wanted if self._placed.get(c) != self._slots.owner(key_slot(c))]
        if not moving:
            return
        first = not self._placed
        self._held = []
        try:
            for channel in moving:
                old = self._placed.pop(channel, None)
                self._confirmed.discard(channel)
                if old is not None and old in self._nodes:
                    await self._nodes[old].remove(channel)
                await self.add(channel)
            if not first:
                log.info("moved %d sharded subscriptions after a slot change", len(moving))
                await self._on_resubscribed()  # what was published at the new primary before we listened there
        finally:
            held, self._held = self._held, None
            for channel, payload in held:
                self._on_payload(channel, payload)
        primaries = self._slots.primaries()
        for address in [a for a in self._nodes if a not in primaries and a not in self._placed.values()]:
            await self._nodes.pop(address).close()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        for node in self._nodes.values():
            await node.close()
        self._nodes.clear()
