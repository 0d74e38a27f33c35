"""One Redis pub/sub connection per node: subscribes the channels it is asked to, hands every payload on, undecoded,
straight from the socket callback. It reconnects by itself, resubscribes, and lets the bus fill the gap the outage
left before it hands on anything newer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from support.core.errors import Unavailable
from realtime.bus.redis.wire import Endpoint, ReplyError, Wire, open_wire

log = logging.getLogger("helpline.bus.fanout")

CONFIRM_TIMEOUT_S = 3.0
PING_EVERY_S = 5.0
SILENT_LIMIT_S = 3 * PING_EVERY_S

PayloadSink = Callable[[bytes, bytes], None]  # channel, payload


class ChannelSubscriber:
    """`sharded`: SSUBSCRIBE (a Redis Cluster node's own channels); `on_moved` hears of a channel the server
    unsubscribed by itself (its slot moved to another node), and of a lost connection (the node may be gone)."""

    def __init__(
        self,
        endpoint: Endpoint,
        name: str,
        on_payload: PayloadSink,
        on_resubscribed: Callable[[], Awaitable[None]],
        sharded: bool = False,
        on_moved: Callable[[bytes], None] | None = None,
    ) -> None:
        self._subscribe, self._unsubscribe = ("SSUBSCRIBE", "SUNSUBSCRIBE") if sharded else ("SUBSCRIBE", "UNSUBSCRIBE")
        self._message, self._confirmed = (b"smessage", b"ssubscribe") if sharded else (b"message", b"subscribe")
        self._on_moved = on_moved
        self._endpoint = endpoint
        self._name = name
        self._on_payload = on_payload
        self._on_resubscribed = on_resubscribed
        self._channels: set[bytes] = set()
        self._confirming: dict[bytes, list[asyncio.Future[None]]] = {}
        self._wire: Wire | None = None
        self._held: list[tuple[bytes, bytes]] | None = None  # payloads that arrive before the gap is filled
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def start(self, *channels: bytes) -> None:
        self._channels.update(channels)
        self._task = asyncio.create_task(self._run(), name="redis-pubsub")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._drop_connection()

    def drop(self) -> None:
        """Abort the connection (the primary moved): the loop reconnects, resubscribes and fills the gap."""
        if self._wire is not None:
            self._wire.abort()

    async def add(self, channel: bytes) -> None:
        """Subscribe and return once Redis confirmed it: from then on no publish to the channel is missed."""
        self._channels.add(channel)
        wire = self._wire
        if not self.connected or wire is None or wire.lost:
            raise Unavailable("live updates are unavailable (Redis unreachable)")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirming.setdefault(channel, []).append(future)
        try:
            wire.send((self._subscribe, channel))
            await asyncio.wait_for(asyncio.shield(future), CONFIRM_TIMEOUT_S)
        except Exception as exc:
            waiting = self._confirming.get(channel, [])
            if future in waiting:
                waiting.remove(future)
            raise Unavailable(f"subscribing failed: {exc!r}") from None

    @property
    def channels(self) -> set[bytes]:
        return self._channels

    async def remove(self, channel: bytes) -> None:
        self._channels.discard(channel)
        wire = self._wire
        if self.connected and wire is not None and not wire.lost:
            wire.send((self._unsubscribe, channel))  # a reconnect resubscribes only what is still wanted

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            try:
                await self._connect()
                delay = 0.1
                if not first:
                    log.info("pub/sub reconnected; %d channels resubscribed", len(self._channels))
                    await self._on_resubscribed()
                first = False
                self._go_live()
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("pub/sub connection lost (%r); reconnecting", exc)
                if self._on_moved is not None:  # on a cluster: the node may be gone, its slots elsewhere now
                    self._on_moved(b"")
            self.connected = False
            self._drop_connection()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _connect(self) -> None:
        self._held = []  # until the gap is filled, what arrives waits
        wire = self._wire = await open_wire(self._endpoint, self._name)
        wire.on_reply = self._on_push
        wanted = set(self._channels)
        if wanted:
            loop = asyncio.get_running_loop()
            futures = []
            for channel in wanted:
                future: asyncio.Future[None] = loop.create_future()
                self._confirming.setdefault(channel, []).append(future)
                futures.append(future)
            if self._subscribe == "SSUBSCRIBE":  # a node takes one slot's channels per SSUBSCRIBE
                for channel in wanted:
                    wire.send((self._subscribe, channel))
            else:
                wire.send((self._subscribe, *wanted))
            try:
                await asyncio.wait_for(asyncio.gather(*futures), CONFIRM_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise ConnectionError("subscriptions were not confirmed") from None
        self.connected = True

    def _go_live(self) -> None:
        held, self._held = self._held or [], None
        for channel, payload in held:
            self._hand_on(channel, payload)

    async def _listen(self) -> None:
        """Ping now and then; a connection silent for SILENT_LIMIT_S (pings unanswered) is dead."""
        wire = self._wire
        assert wire is not None
        heard, silent_s = wire.heard, 0.0
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(wire.closed), PING_EVERY_S)
                raise ConnectionError("pub/sub connection closed")
            except asyncio.TimeoutError:
                pass
            silent_s = silent_s + PING_EVERY_S if wire.heard == heard else 0.0
            if silent_s >= SILENT_LIMIT_S:
                raise ConnectionError("Redis stopped answering pings")
            heard = wire.heard
            wire.send(("PING",))

    def _on_push(self, push: Any) -> None:
        if type(push) is ReplyError:  # e.g. MOVED to an SSUBSCRIBE: the slot map was stale
            log.warning("Redis refused a subscription: %s", push)
            if self._on_moved is not None:
                self._on_moved(b"")
            return
        kind = push[0]
        if kind == self._message:
            if self._held is None:
                self._hand_on(push[1], push[2])
            else:
                self._held.append((push[1], push[2]))
        elif kind == self._confirmed:
            for future in self._confirming.pop(push[1], []):
                if not future.done():
                    future.set_result(None)
        elif kind == b"sunsubscribe" and push[1] in self._channels and self._on_moved is not None:
            self._on_moved(push[1])  # not asked for: the slot left this node

    def _hand_on(self, channel: bytes, payload: bytes) -> None:
        try:
            self._on_payload(channel, payload)
        except Exception:
            log.exception("handling a pub/sub payload failed")

    def _drop_connection(self) -> None:
        wire, self._wire = self._wire, None
        for waiting in self._confirming.values():
            for future in waiting:
                if not future.done():
                    future.set_exception(ConnectionError("pub/sub connection lost"))
                    future.exception()
        self._confirming.clear()
        if wire is not None:
            wire.abort()
