"""The bus's connections to its Redis: one server, or the primary that Redis Sentinel names, found again after a
failover (a new connection asks the sentinels; READONLY and `+switch-master` drop the old ones), or a Redis Cluster
(redis-py's RedisCluster for the pooled client; the hot path routes by slot itself, cluster.py).

It only connects: what runs on the connections is the bus's (bus.py) and the hot path's (wire.py, fanout.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from realtime.bus.redis.wire import Endpoint
from support.core.redis_url import RedisTarget, redis_client, sentinel_manager

log = logging.getLogger("helpline.bus.sentinel")

SWITCH_CHANNEL = "+switch-master"


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The Sentinel pool, bounded and blocking like the single-server one: a burst waits for a connection."""


class Connections:
    """The pooled client, the hot path's endpoint and (behind Sentinel) the sentinels, for one target."""

    def __init__(self, target: RedisTarget, **pool_options: Any) -> None:
        self.target = target
        self.sentinels: Sentinel | None = None
        self.redis: Redis
        if target.cluster:
            # RedisCluster keeps a pool per node and follows MOVED / ASK. Its pools do not block: a bound would turn a
            # burst (500 joins at once) into MaxConnectionsError, so the node pools are left unbounded here.
            unused = ("timeout", "retry", "health_check_interval", "max_connections")
            options = {k: v for k, v in pool_options.items() if k not in unused}
            self.redis = redis_client(target, **options)
            self.endpoint = Endpoint.from_url(target.url)
        elif target.sentinel:
            self.sentinels = sentinel_manager(target)
            self.redis = self.sentinels.master_for(
                target.service, connection_pool_class=BlockingSentinelPool, **pool_options
            )
            self.endpoint = Endpoint.from_options(target.connection_options(), locate=self._locate)
        else:
            self.redis = Redis(connection_pool=BlockingConnectionPool.from_url(target.url, **pool_options))
            self.endpoint = Endpoint.from_url(target.url)

    async def _locate(self) -> tuple[str, int]:
        assert self.sentinels is not None
        host, port = await self.sentinels.discover_master(self.target.service)
        return str(host), int(port)

    async def watch_switches(self, on_switch: Callable[[], None]) -> None:
        """Behind Sentinel, until cancelled: call `on_switch` when a sentinel announces a new primary of the
        service, so connections to the old one are dropped at once rather than when they fail."""
        if self.sentinels is None:
            return
        turn = 0
        while True:
            sentinel = self.sentinels.sentinels[turn % len(self.sentinels.sentinels)]
            turn += 1
            pubsub = sentinel.pubsub()
            try:
                await pubsub.subscribe(SWITCH_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    name = message["data"].split(b" ", 1)[0].decode()
                    if name == self.target.service:
                        log.warning("Sentinel: %s switched primary (%s); reconnecting", name, message["data"].decode())
                        on_switch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # this sentinel is down: listen to the next one
                log.debug("Sentinel subscription lost (%r)", exc)
                await asyncio.sleep(0.5)
            finally:
                try:  # bounded: a sentinel that went away must not hold a cancelled watcher open
                    await asyncio.wait_for(pubsub.aclose(), 1)  # type: ignore[no-untyped-call]
                except Exception:
                    pass

    async def close(self) -> None:
        await self.redis.aclose()
        if self.sentinels is not None:
            for sentinel in self.sentinels.sentinels:
                await sentinel.aclose()
