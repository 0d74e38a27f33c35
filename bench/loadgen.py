"""One load-generator process: holds its share of the connections, sends at a fixed rate, times every receipt.

Rooms are never split across generator processes, so a message's completion (its last member's receipt) is
known here. Commands come from the harness over a pipe; answers are plain dicts.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import time
from multiprocessing.connection import Connection as Pipe
from typing import Any

from bench.adapters import ADAPTERS, Adapter, make_body, parse_body
from bench.wsclient import WSClient


class Member:
    __slots__ = ("client", "room_index", "room", "waiter", "want", "received", "position")

    def __init__(self, room_index: int, room: str) -> None:
        self.client: WSClient | None = None
        self.room_index = room_index
        self.room = room
        self.waiter: Any = None
        self.want: str = ""
        self.received = 0
        self.position = 0


class Generator:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.members: list[Member] = []
        self.senders: list[Member] = []
        self.room_size: dict[int, int] = {}
        self.pending: dict[int, list[int]] = {}  # message key -> [receipts so far, latest receipt ns]
        self.latencies: list[int] = []
        self.receipts = 0
        self.closed = 0
        self.counters: list[int] = []
        self.close_codes: dict[int, int] = {}
        self.handshake_retries = 0
        self.tracking = False

    # -- receiving -----------------------------------------------------------------------------------------------
    def on_text(self, client: WSClient, frame: bytes) -> None:
        member: Member = client.tag  # type: ignore[assignment]
        if member.waiter is not None and not member.waiter.done():
            a = self.adapter
            if (member.want == "welcome" and a.is_welcome(frame)) or (member.want == "joined" and a.is_joined(frame)):
                member.waiter.set_result(None)
                return
        reply = self.adapter.auto_reply(frame)
        if reply is not None:
            client.send_text(reply)
            return
        if not self.tracking:
            return
        parsed = parse_body(frame)
        if parsed is None:
            return
        now = time.monotonic_ns()
        sent_ns, room, n = parsed
        key = room * 1_000_000_000 + n
        entry = self.pending.get(key)
        if entry is None:
            return  # late, from an earlier step
        self.receipts += 1
        member.received += 1
        entry[0] += 1
        if entry[0] >= self.room_size[room]:
            del self.pending[key]
            self.latencies.append((now - sent_ns) // 1000)

    def on_close(self, client: WSClient) -> None:
        self.closed += 1
        code = client.close_code or 1006
        self.close_codes[code] = self.close_codes.get(code, 0) + 1

    # -- connecting ----------------------------------------------------------------------------------------------
    async def _connect_retrying(self, spec: dict[str, Any], member: "Member") -> WSClient:
        """A refused or reset handshake is tried twice more, as every real client (the widget too) reconnects:
        under a burst of thousands of handshakes the kernel's accept queue overflows for any server."""
        for delay in (0.25, 1.0, None):
            try:
                return await WSClient.connect(
                    spec["host"], spec["port"], self.adapter.path, self.on_text, self.on_close, tag=member
                )
            except (ConnectionError, OSError):
                if delay is None:
                    raise
                self.handshake_retries += 1
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def connect(self, plan: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        errors: list[str] = []

        async def one(spec: dict[str, Any]) -> None:
            member = Member(spec["room_index"], spec["room"])
            member.position = spec.get("position", 0)
            try:
                client = await self._connect_retrying(spec, member)
                member.client = client
                await self._ask(member, self.adapter.hello(spec["token"]), "welcome")
                if spec["room"]:
                    await self._ask(member, self.adapter.join(spec["room"]), "joined")
            except Exception as exc:  # reported, not raised: one refused connection must not end the run
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            self.members.append(member)
            if spec["room"]:
                self.room_size[member.room_index] = self.room_size.get(member.room_index, 0) + 1
            if spec.get("sender"):
                self.senders.append(member)

        async def room(specs: list[dict[str, Any]]) -> None:
            # A room's members join one after another: encode/broadcaster loses a subscriber when two connections
            # of one node subscribe to the same channel at once, and every peer is to be measured working.
            async with gate:
                for spec in specs:
                    await one(spec)

        rooms: dict[int, list[dict[str, Any]]] = {}
        for spec in plan:
            rooms.setdefault(spec["room_index"], []).append(spec)
        started = time.monotonic()
        await asyncio.gather(*(room(specs) for specs in rooms.values()))
        gc.collect()
        return {
            "connected": len(self.members),
            "errors": len(errors),
            "first_errors": errors[:3],
            "handshake_retries": self.handshake_retries,
            "seconds": time.monotonic() - started,
        }

    async def _ask(self, member: Member, frame: str, want: str) -> None:
        member.waiter = asyncio.get_running_loop().create_future()
        member.want = want
        assert member.client is not None
        member.client.send_text(frame)
        await asyncio.wait_for(member.waiter, 60)
        member.waiter = None

    # -- a step at a fixed offered rate --------------------------------------------------------------------------
    async def step(self, rate: float, duration: float, grace: float) -> dict[str, Any]:
        self.pending.clear()
        for m in self.members:
            m.received = 0
        self.latencies = []
        self.receipts = 0
        closed_before = self.closed
        # Message numbers go on across steps: Helpline rightly drops a repeated client_id as a duplicate.
        counters = self.counters = self.counters or [0] * len(self.senders)
        send = self.adapter.send
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        gc.disable()  # a collection pause would show up as everyone's latency
        self.tracking = True
        start = time.monotonic()
        sent, i, nsenders = 0, 0, len(self.senders)
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= duration:
                break
            due = int(rate * elapsed) - sent
            for _ in range(due):
                m = self.senders[i]
                n = counters[i] = counters[i] + 1
                i = (i + 1) % nsenders
                self.pending[m.room_index * 1_000_000_000 + n] = [0, 0]
                assert m.client is not None
                m.client.send_text(send(m.room, make_body(m.room_index, n), n))
            sent += max(due, 0)
            await asyncio.sleep(0.002)
        send_seconds = time.monotonic() - start
        deadline = time.monotonic() + grace
        while self.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self.tracking = False
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        gc.enable()
        return {
            "sent": sent,
            "send_seconds": send_seconds,
            "completed": len(self.latencies),
            "receipts": self.receipts,
            "incomplete": len(self.pending),
            "latencies_us": self.latencies,
            "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
            "closed": self.closed - closed_before,
            "close_codes": dict(self.close_codes),
            "received_by_position": _by_position(self.members),
        }

    async def close(self) -> None:
        for m in self.members:
            if m.client:
                m.client.close()
        await asyncio.sleep(0.2)
        self.members.clear()
        self.senders.clear()
        self.room_size.clear()


def _by_position(members: list[Member]) -> dict[int, int]:
    """Receipts per member position in its room (0 = the sender): shows who misses messages, if anyone does."""
    out: dict[int, int] = {}
    for m in members:
        out[m.position] = out.get(m.position, 0) + m.received
    return out


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 65536), max(hard, 65536)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(pipe: Pipe, adapter_name: str) -> None:
    """Entry point of a generator process (multiprocessing spawn)."""
    _raise_fd_limit()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(pipe, adapter_name))


async def _serve(pipe: Pipe, adapter_name: str) -> None:
    gen = Generator(ADAPTERS[adapter_name])
    loop = asyncio.get_running_loop()
    while True:
        command, args = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            answer: Any = await gen.connect(args["plan"], args.get("concurrency", 100))
        elif command == "step":
            answer = await gen.step(args["rate"], args["duration"], args["grace"])
        elif command == "cpu":
            r = resource.getrusage(resource.RUSAGE_SELF)
            answer = {
                "cpu_s": r.ru_utime + r.ru_stime,
                "closed": gen.closed,
                "open": len(gen.members),
                "close_codes": gen.close_codes,
            }
        elif command == "close":
            await gen.close()
            answer = {"ok": True}
        else:
            pipe.send({"ok": True})
            return
        pipe.send(answer)
