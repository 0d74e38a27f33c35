"""One Redis pub/sub connection per node: subscribes the channels it is asked to, hands every payload on.

It reconnects by itself after a Redis outage, resubscribes every channel it holds, and then lets the bus fill
whatever gap the outage left, before it hands on anything newer. It never decodes payloads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from realtime.bus.base import Unavailable

log = logging.getLogger("helpline.bus.fanout")

CONFIRM_TIMEOUT_S = 3.0
PING_EVERY_S = 5.0
SILENT_LIMIT_S = 3 * PING_EVERY_S

PayloadSink = Callable[[str, bytes], None]


class ChannelSubscriber:
    def __init__(self, redis: Redis, on_payload: PayloadSink,
                 on_resubscribed: Callable[[], Awaitable[None]]) -> None:
        self._redis = redis
        self._on_payload = on_payload
        self._on_resubscribed = on_resubscribed
        self._channels: set[str] = set()
        self._confirming: dict[str, list[asyncio.Future[None]]] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def start(self, *channels: str) -> None:
        self._channels.update(channels)
        self._task = asyncio.create_task(self._run(), name="redis-pubsub")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await self._drop_connection()

    async def add(self, channel: str) -> None:
        """Subscribe and return once Redis confirmed it: from then on no publish to the channel is missed."""
        self._channels.add(channel)
        pubsub = self._pubsub
        if not self.connected or pubsub is None:
            raise Unavailable("live updates are unavailable (Redis unreachable)")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirming.setdefault(channel, []).append(future)
        try:
            await pubsub.subscribe(channel)
            await asyncio.wait_for(asyncio.shield(future), CONFIRM_TIMEOUT_S)
        except (asyncio.TimeoutError, OSError, ConnectionError, Exception) as exc:
            waiting = self._confirming.get(channel, [])
            if future in waiting:
                waiting.remove(future)
            raise Unavailable(f"subscribing failed: {exc!r}") from None

    async def remove(self, channel: str) -> None:
        self._channels.discard(channel)
        if self.connected and self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception:  # the reconnect resubscribes only what is still wanted
                pass

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
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("pub/sub connection lost (%r); reconnecting", exc)
            self.connected = False
            await self._drop_connection()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _connect(self) -> None:
        pubsub = self._pubsub = self._redis.pubsub()
        wanted = set(self._channels)
        await pubsub.subscribe(*wanted)
        deadline = time.monotonic() + CONFIRM_TIMEOUT_S
        while wanted:
            if time.monotonic() > deadline:
                raise ConnectionError("subscriptions were not confirmed")
            message = await pubsub.get_message(timeout=CONFIRM_TIMEOUT_S)
            if message is not None:
                if message["type"] == "subscribe":
                    wanted.discard(message["channel"].decode())
                self._handle(message)
        self.connected = True

    async def _listen(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        last_heard = last_ping = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_heard = now
                self._handle(message)
            elif now - last_heard > SILENT_LIMIT_S:
                raise ConnectionError("Redis stopped answering pings")
            if now - last_ping > PING_EVERY_S:
                last_ping = now
                await pubsub.ping()

    def _handle(self, message: dict) -> None:  # type: ignore[type-arg]
        kind = message["type"]
        if kind == "message":
            try:
                self._on_payload(message["channel"].decode(), message["data"])
            except Exception:
                log.exception("handling a pub/sub payload failed")
        elif kind == "subscribe":
            for future in self._confirming.pop(message["channel"].decode(), []):
                if not future.done():
                    future.set_result(None)

    async def _drop_connection(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        for waiting in self._confirming.values():
            for future in waiting:
                if not future.done():
                    future.set_exception(ConnectionError("pub/sub connection lost"))
                    future.exception()
        self._confirming.clear()
        if pubsub is not None:
            try:
                await asyncio.wait_for(pubsub.aclose(), 1.0)
            except Exception:
                pass
