"""The TokenBuckets contract, run against both backends: in this process, and shared through real Redis."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
import uvloop

from realtime.bus.redis.failures import redis_failure, torn_down
from realtime.bus.redis.limits import RedisTokenBuckets, limits_client, limits_connections, limits_pipe
from realtime.bus.redis.wire import CommandPipe
from realtime.limits import MemoryTokenBuckets, TokenBuckets
from tests.services import REDIS_URL, free_port

OpenBuckets = Callable[[float, float], Awaitable[TokenBuckets]]


@pytest.fixture(params=["memory", "redis", "redis-pipelined"])
async def open_buckets(request: pytest.FixtureRequest) -> AsyncIterator[OpenBuckets]:
    """`redis-pipelined` is what a gateway node runs: takes on one pipelined connection (rate_budgets.py)."""
    clients: list[aioredis.Redis] = []
    pipes: list[CommandPipe] = []
    prefix = request.getfixturevalue("redis_prefix") if request.param != "memory" else ""

    async def open_one(rate: float, burst: float) -> TokenBuckets:
        if request.param == "memory":
            return MemoryTokenBuckets(rate, burst)
        connections = limits_connections(REDIS_URL, prefix)
        clients.append(connections.redis)
        pipe = limits_pipe(connections, prefix) if request.param == "redis-pipelined" else None
        if pipe is not None:
            pipes.append(pipe)
        return RedisTokenBuckets(connections.redis, prefix, "test-budget", rate, burst, pipe)

    yield open_one
    for pipe in pipes:
        await pipe.close()
    for client in clients:
        await client.aclose()


async def test_a_new_caller_has_the_whole_burst_then_is_refused_with_a_wait(open_buckets: OpenBuckets) -> None:
    buckets = await open_buckets(2.0, 5.0)
    verdicts = [await buckets.take("203.0.113.7") for _ in range(7)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2
    refused = verdicts[-1]
    assert 0 < refused.retry_after_s <= 0.5  # one token at 2 per second
    assert refused.retry_after_header == "1"


async def test_callers_have_separate_buckets(open_buckets: OpenBuckets) -> None:
    buckets = await open_buckets(0.01, 2.0)
    assert [(await buckets.take("alice")).allowed for _ in range(3)] == [True, True, False]
    assert (await buckets.take("bob")).allowed


async def test_a_bucket_refills_at_its_rate(open_buckets: OpenBuckets) -> None:
    buckets = await open_buckets(10.0, 2.0)
    assert [(await buckets.take("carol")).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.25)  # 2.5 tokens' worth, capped at the burst of 2
    assert [(await buckets.take("carol")).allowed for _ in range(3)] == [True, True, False]


async def test_two_holders_of_one_backend_spend_one_budget(redis_prefix: str) -> None:
    """What two gateway nodes do: each its own client and object, one budget between them."""
    first, second = limits_client(REDIS_URL, redis_prefix), limits_client(REDIS_URL, redis_prefix)
    try:
        nodes = [RedisTokenBuckets(c, redis_prefix, "shared", 0.01, 4.0) for c in (first, second)]
        allowed = [(await nodes[i % 2].take("198.51.100.9")).allowed for i in range(8)]
        assert allowed == [True] * 4 + [False] * 4
        key = f"{redis_prefix}:limit:shared:198.51.100.9"
        ttl_ms = await first.pttl(key)
        assert 0 < ttl_ms <= 4 / 0.01 * 1000 + 1000  # expires once it would be full again: no key lives forever
    finally:
        await first.aclose()
        await second.aclose()


async def test_unreachable_redis_falls_back_to_this_node_and_never_raises() -> None:
    client = limits_client(f"redis://127.0.0.1:{free_port()}/0", "nowhere")  # nothing listens there
    try:
        buckets = RedisTokenBuckets(client, "nowhere", "fallback", 0.01, 3.0)
        verdicts = [await buckets.take("192.0.2.1") for _ in range(5)]
        assert [v.allowed for v in verdicts] == [True, True, True, False, False]
        assert verdicts[-1].retry_after_s > 0
    finally:
        await client.aclose()


async def test_pipelined_takes_with_redis_unreachable_fall_back_and_never_raise() -> None:
    connections = limits_connections(f"redis://127.0.0.1:{free_port()}/0", "nowhere")
    pipe = limits_pipe(connections, "nowhere")
    assert pipe is not None
    try:
        buckets = RedisTokenBuckets(connections.redis, "nowhere", "fallback", 0.01, 3.0, pipe)
        verdicts = await asyncio.gather(*(buckets.take("192.0.2.1") for _ in range(5)))
        assert sorted(v.allowed for v in verdicts) == [False, False, True, True, True]
    finally:
        await pipe.close()
        await connections.redis.aclose()


async def test_a_cluster_client_that_finds_no_cluster_falls_back_and_never_raises() -> None:
    # redis-py's cluster client raises RedisClusterException (not a RedisError) when the node it asks is not in a
    # cluster or a slot has no primary: that once escaped the fallback as an HTTP 500 on ticket creation.
    connections = limits_connections(REDIS_URL.replace("redis://", "redis+cluster://", 1), "nocluster")
    try:
        buckets = RedisTokenBuckets(connections.redis, "nocluster", "fallback", 0.01, 2.0)
        verdicts = [await buckets.take("192.0.2.1") for _ in range(3)]
        assert [v.allowed for v in verdicts] == [True, True, False]
    finally:
        await connections.redis.aclose()


def test_a_connection_closed_under_the_redis_client_falls_back_instead_of_failing_the_request(
    redis_prefix: str,
) -> None:
    """On uvloop (what the gateway runs), redis-py lets a write on a connection that another task has just closed
    escape as RuntimeError: the cluster client closes a node's connections after one timeout, and ticket creation
    answered 500 for the requests beside it. The limit falls back to the node's own bucket; a bug still raises."""

    async def main() -> None:
        connections = limits_connections(REDIS_URL, redis_prefix)
        buckets = RedisTokenBuckets(connections.redis, redis_prefix, "torn", 100.0, 100.0)
        try:
            assert (await buckets.take("anna")).allowed
            pool = connections.redis.connection_pool
            connection = pool._available_connections[0]  # type: ignore[attr-defined]
            connection._writer.transport.close()  # as the cluster client's disconnect does, from another task
            await asyncio.sleep(0)
            assert (await buckets.take("anna")).allowed  # from the node's own bucket, not an exception
            assert (await buckets.take("anna")).allowed  # and again, while Redis is treated as away
        finally:
            await connections.redis.aclose()
        try:
            raise RuntimeError("unable to perform operation: the handler is closed")  # raised here: a bug
        except RuntimeError as exc:
            assert not torn_down(exc) and not redis_failure(exc)

    uvloop.run(main())
