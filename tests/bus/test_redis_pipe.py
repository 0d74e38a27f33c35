"""The Redis bus's pipelined commit connection and its pub/sub reader: order, failures, catching up."""

from __future__ import annotations

import asyncio
import secrets
from typing import AsyncIterator

import pytest

from persistence.store import TicketStore
from support.core.bus import MessageEvent
from support.core.errors import Unavailable
from realtime.bus.redis.bus import RedisBus
from realtime.bus.redis.wire import CommandPipe, Endpoint, ReplyError
from tests.bus.conftest import RedisNode as Node
from tests.bus.conftest import draft, drop_pubsub_connections, new_ticket
from tests.services import REDIS_URL


@pytest.fixture
async def pipe(redis_prefix: str) -> AsyncIterator[CommandPipe]:
    pipe = CommandPipe(Endpoint.from_url(REDIS_URL), name=f"{redis_prefix}:test")
    yield pipe
    await pipe.close()


class FakeRedis:
    """Answers the connection setup, then `replies` of what follows (each ':1'), then does what `after` says."""

    def __init__(self, replies: int, after: str) -> None:
        self.replies, self.after = replies, after
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if not line.startswith(b"*"):
                    continue
                args = [await self._bulk(reader) for _ in range(int(line[1:]))]
                if args[0].upper() == b"CLIENT":
                    writer.write(b"+OK\r\n")
                elif answered < self.replies:
                    answered += 1
                    writer.write(b":1\r\n")
                elif self.after == "close":
                    writer.close()
                    return
                # "silent": never answer again
                await writer.drain()
        except ConnectionError:
            return

    @staticmethod
    async def _bulk(reader: asyncio.StreamReader) -> bytes:
        size = int((await reader.readline())[1:])
        return (await reader.readexactly(size + 2))[:-2]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


async def test_commands_of_one_tick_leave_in_one_write_and_are_answered_in_order(
    pipe: CommandPipe, redis_prefix: str
) -> None:
    key = f"{redis_prefix}:counter"
    assert await pipe.call("PING") == b"PONG"  # connected
    wire = pipe._wire
    assert wire is not None and wire._transport is not None
    writes = 0
    write = wire._transport.write

    def counting(data: bytes) -> None:
        nonlocal writes
        writes += 1
        write(data)

    wire._transport.write = counting  # type: ignore[method-assign]
    results = await asyncio.gather(*(pipe.call("INCR", key) for _ in range(200)))
    assert results == list(range(1, 201))
    assert writes == 1


async def test_an_error_reply_fails_only_its_own_command(pipe: CommandPipe, redis_prefix: str) -> None:
    text, counter = f"{redis_prefix}:text", f"{redis_prefix}:n"
    await pipe.call("SET", text, "not a number")
    outcomes = await asyncio.gather(
        pipe.call("INCR", counter), pipe.call("INCR", text), pipe.call("INCR", counter), return_exceptions=True
    )
    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], ReplyError)


async def test_what_follows_a_replicated_write_runs_behind_its_wait_in_the_same_write(
    pipe: CommandPipe, redis_prefix: str
) -> None:
    first, second, after = (f"{redis_prefix}:{name}" for name in ("first", "second", "after"))
    assert await pipe.call("PING") == b"PONG"
    wire = pipe._wire
    assert wire is not None and wire._transport is not None
    sent: list[bytes] = []
    write = wire._transport.write

    def recording(data: bytes) -> None:
        sent.append(data)
        write(data)

    wire._transport.write = recording  # type: ignore[method-assign]
    # No replica to wait for (0): both commands of the tick, one WAIT, then what follows each, in one write.
    replies = await asyncio.gather(
        pipe.call_replicated(0, 1000, ("INCR", first), ("GET", first)),
        pipe.call_replicated(0, 1000, ("INCR", second), ("INCR", after)),
    )
    assert replies == [(1, b"1"), (1, 1)]
    assert len(sent) == 1
    commands = [part for part in sent[0].split(b"\r\n") if part.isalpha()]
    assert commands == [b"INCR", b"INCR", b"WAIT", b"GET", b"INCR"]
    assert b"WAIT\r\n$1\r\n0\r\n$1\r\n0\r\n" in sent[0]  # no timeout in Redis: the gateway keeps the time


async def test_a_replicated_write_no_replica_acknowledges_fails_and_what_follows_it_never_runs(
    pipe: CommandPipe, redis_prefix: str
) -> None:
    written, published = f"{redis_prefix}:written", f"{redis_prefix}:published"
    reader = CommandPipe(Endpoint.from_url(REDIS_URL), name=f"{redis_prefix}:reader")
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(Unavailable, match="fewer than 1 replicas in 200 ms"):  # this Redis has no replica
            await asyncio.wait_for(pipe.call_replicated(1, 200, ("SET", written, "1"), ("SET", published, "1")), 5)
        assert asyncio.get_running_loop().time() - started < 2  # the gateway's own timeout, not the watchdog's
        await asyncio.sleep(0.3)
        assert await reader.call("GET", written) == b"1"  # it ran: the client's retry finds it
        assert await reader.call("EXISTS", published) == 0  # the connection was dropped before its WAIT returned
        assert await pipe.call("PING") == b"PONG"  # the next command reconnects
    finally:
        await reader.close()


async def test_a_connection_lost_mid_pipeline_fails_every_pending_command_with_unavailable() -> None:
    fake = FakeRedis(replies=2, after="close")
    pipe = CommandPipe(Endpoint.from_url(await fake.start()), name="test")
    try:
        outcomes = await asyncio.gather(*(pipe.call("INCR", "k") for _ in range(6)), return_exceptions=True)
        assert outcomes[:2] == [1, 1]
        assert all(isinstance(o, Unavailable) for o in outcomes[2:])
        assert await pipe.call("INCR", "k") == 1  # the next command reconnects
        assert fake.connections == 2
    finally:
        await pipe.close()
        await fake.stop()


async def test_replies_that_never_come_fail_pending_commands_instead_of_hanging() -> None:
    fake = FakeRedis(replies=0, after="silent")
    pipe = CommandPipe(Endpoint.from_url(await fake.start()), name="test", reply_timeout_s=1.0)
    try:
        started = asyncio.get_running_loop().time()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(pipe.call("INCR", "k") for _ in range(3)), return_exceptions=True), 10
        )
        assert all(isinstance(o, Unavailable) for o in outcomes)
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await pipe.close()
        await fake.stop()


async def test_a_commit_on_a_dropped_connection_is_unavailable_never_acked(store: TicketStore) -> None:
    fake = FakeRedis(replies=0, after="close")
    bus = RedisBus(await fake.start(), store, prefix=f"hltest-{secrets.token_hex(4)}")
    try:
        with pytest.raises(Unavailable):
            await bus.commit(draft(new_ticket(), "c1"))
    finally:
        await bus.close()
        await fake.stop()


@pytest.fixture
def node(redis_nodes: Node) -> Node:
    return redis_nodes


async def test_concurrent_commits_get_gapless_seqs_in_the_order_they_were_issued(node: Node) -> None:
    tickets = [new_ticket() for _ in range(5)]
    (a, sink_a), (b, _) = await node(), await node()
    for ticket in tickets:
        await a.subscribe(ticket)
    for ticket in tickets:  # a ticket's first commit seeds its counter from the database (a detour, not in order)
        await b.commit(draft(ticket, "first", body="0"))
    drafts = [draft(t, f"c{i}-{t}", body=f"{i}") for i in range(1, 41) for t in tickets]
    results = await asyncio.gather(*(b.commit(d) for d in drafts))
    for ticket in tickets:
        mine = [r.message for r in results if r.message.ticket == ticket]
        assert [m.seq for m in mine] == list(range(2, 42))
        assert [m.body for m in mine] == [str(i) for i in range(1, 41)]
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 205)
    for ticket in tickets:
        seen = [e.message.seq for e in sink_a.of(MessageEvent) if e.message.ticket == ticket]  # type: ignore
        assert seen == list(range(1, 42))
    again = await b.commit(drafts[7])
    assert again.duplicate and again.message.seq == results[7].message.seq


async def test_live_messages_wait_until_the_gap_after_a_reconnect_is_filled(node: Node, redis_prefix: str) -> None:
    ticket = new_ticket()
    (a, sink_a), (b, _) = await node(), await node()
    await a.subscribe(ticket)
    await b.commit(draft(ticket, "c0"))
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 1)
    filling, resume = asyncio.Event(), asyncio.Event()
    fill = a._subscriber._on_resubscribed

    async def slow_fill() -> None:
        filling.set()
        await resume.wait()
        await fill()

    a._subscriber._on_resubscribed = slow_fill
    await drop_pubsub_connections(redis_prefix)
    for i in range(1, 3):
        await b.commit(draft(ticket, f"missed{i}"))  # while node A is not listening (or already resubscribed)
    await asyncio.wait_for(filling.wait(), 5)
    for i in range(3, 5):
        await b.commit(draft(ticket, f"live{i}"))  # published while node A fills its gap
    await asyncio.sleep(0.2)
    resume.set()
    await sink_a.until(lambda: len(sink_a.of(MessageEvent)) == 5)
    await asyncio.sleep(0.2)
    assert [e.message.seq for e in sink_a.of(MessageEvent)] == [1, 2, 3, 4, 5]  # type: ignore[attr-defined]
