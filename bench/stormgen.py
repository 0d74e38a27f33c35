"""One reconnect-storm client process: holds its share of the clients, keeps messages flowing, and when a node dies
reconnects every client of it to the other node as the widget does (jittered backoff, hello, join with `since`).

Every client keeps a `SeqLedger` per ticket, so "caught up gap-free" is counted per client. With `track=False` (the
bare server) a client only connects: that is the baseline's plain reconnect; with `bare_resume` it also says hello
(a token checked with PyJWT) and joins its room in the same round trip, the bare server's version of a resume (it
has no history to catch up from). Commands come over a pipe, as in loadgen.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from multiprocessing.connection import Connection as Pipe
from typing import Any, Callable

import msgspec

from bench.loadgen import _raise_fd_limit
from bench.recovery import SeqLedger, widget_backoff_s
from bench.wsclient import WSClient


class _Seq(msgspec.Struct):
    seq: int = 0


class _Frame(msgspec.Struct):
    type: str = ""
    seq: int = 0
    last_seq: int = 0
    messages: list[_Seq] = []


_decode = msgspec.json.Decoder(_Frame).decode


class StormClient:
    __slots__ = (
        "spec",
        "ws",
        "ledger",
        "port",
        "alt_port",
        "online",
        "lost_at",
        "first_try_at",
        "connected_at",
        "welcome_at",
        "caught_up_at",
        "attempts",
        "tries",
        "waiter",
        "busy",
    )

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.ws: WSClient | None = None
        self.ledger = SeqLedger()
        self.port: int = spec["port"]
        self.alt_port: int = spec["alt_port"]
        self.online = False  # joined (Helpline) or connected (bare): may send
        self.lost_at = 0.0
        self.first_try_at = 0.0
        self.connected_at = 0.0
        self.welcome_at = 0.0
        self.caught_up_at = 0.0
        self.attempts = 0  # the backoff's exponent, reset by a welcome
        self.tries = 0  # reconnect attempts in all
        self.waiter: asyncio.Future[None] | None = None
        self.busy = False  # a reconnect loop runs for it


class StormGen:
    def __init__(self, track: bool, bare_resume: bool = False) -> None:
        self.track = track  # Helpline: hello, join with since, seq ledger; bare: connect only (or `bare_resume`)
        self.bare_resume = bare_resume and not track
        self.resumes = track or self.bare_resume  # a client is back at its `joined`, not at its connect
        self.clients: list[StormClient] = []
        self.storm = False
        self.reconnecting: list[StormClient] = []
        self.sent = 0
        self.skipped = 0  # sends due while the room's sender was away
        self.lost_after_storm = 0
        self.sender_task: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    # -- frames --------------------------------------------------------------------------------------------------
    def on_text(self, ws: WSClient, frame: bytes) -> None:
        c: StormClient = ws.tag  # type: ignore[assignment]
        if self.bare_resume:
            if frame.startswith((b'{"op": "joined"', b'{"op":"joined"')):  # the bare server's json.dumps spacing
                self._joined(c)
            elif frame.startswith(b'{"op":"welcome"'):
                self._welcomed(c)
        if not self.track:
            return
        if frame.startswith(b'{"type":"message"'):
            c.ledger.message(_decode(frame).seq)
        elif frame.startswith(b'{"type":"joined"'):
            f = _decode(frame)
            c.ledger.joined([m.seq for m in f.messages], f.last_seq)
            self._joined(c)
        elif frame.startswith(b'{"type":"welcome"'):
            self._welcomed(c)

    def _joined(self, c: StormClient) -> None:
        c.online = True
        if c.lost_at and not c.caught_up_at:
            c.caught_up_at = time.monotonic()
        self._wake(c)

    def _welcomed(self, c: StormClient) -> None:
        c.welcome_at = time.monotonic()
        c.attempts = 0  # as client.js: a welcome resets the backoff
        self._wake(c)

    @staticmethod
    def _wake(c: StormClient) -> None:
        if c.waiter is not None and not c.waiter.done():
            c.waiter.set_result(None)

    def on_close(self, ws: WSClient) -> None:
        c: StormClient = ws.tag  # type: ignore[assignment]
        if c.ws is not ws:
            return  # an attempt that already failed
        c.online = False
        c.ws = None
        if c.waiter is not None and not c.waiter.done():
            c.waiter.set_exception(ConnectionError("closed while waiting for an answer"))
        if not self.storm or c.busy:
            return
        if c.lost_at and (c.caught_up_at or (not self.resumes and c.connected_at > c.lost_at)):
            self.lost_after_storm += 1  # it was back already and lost its connection again
        if not c.lost_at:
            c.lost_at = time.monotonic()
            self.reconnecting.append(c)
        c.port = c.alt_port  # the load balancer sends it to the node that is left
        self._spawn(self._reconnect(c))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- connecting ----------------------------------------------------------------------------------------------
    async def _open(self, c: StormClient, since: int | None) -> None:
        """Connect, then (Helpline) hello and join; raises on any failure, leaving the socket closed."""
        ws = await WSClient.connect("127.0.0.1", c.port, "/ws", self.on_text, self.on_close, tag=c)
        c.ws = ws
        c.connected_at = time.monotonic()
        if self.bare_resume:
            bare = [{"op": "hello", "token": c.spec["token"]}, {"op": "join", "room": c.spec["room"]}]
            await self._ask(c, bare, lambda: c.online)
            return
        if not self.track:
            c.online = True
            return
        hello = {"type": "hello", "token": c.spec["token"]}
        if since is None:  # the first open: the widget joins once welcomed (the user opens the ticket)
            await self._ask(c, [hello], until=lambda: c.welcome_at > c.connected_at)
            await self._ask(c, [{"type": "join", "ticket": c.spec["room"]}], until=lambda: c.online)
        else:  # a resume, as client.js does it: the join of a ticket it knows goes right behind the hello
            await self._ask(c, [hello, {"type": "join", "ticket": c.spec["room"], "since": since}], lambda: c.online)

    async def _ask(self, c: StormClient, frames: list[dict[str, Any]], until: Callable[[], bool]) -> None:
        ws = c.ws
        assert ws is not None
        for frame in frames:
            ws.send_text(json.dumps(frame))
        deadline = time.monotonic() + 30
        while not until():
            if c.ws is not ws:
                raise ConnectionError("closed while waiting for an answer")
            c.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(c.waiter, max(0.0, deadline - time.monotonic()))
            finally:
                c.waiter = None

    async def _reconnect(self, c: StormClient) -> None:
        c.busy = True
        try:
            await self._reconnect_loop(c)
        finally:
            c.busy = False

    async def _reconnect_loop(self, c: StormClient) -> None:
        while self.storm:
            await asyncio.sleep(widget_backoff_s(c.attempts))
            c.attempts += 1
            c.tries += 1
            if not c.first_try_at:
                c.first_try_at = time.monotonic()
            try:
                await self._open(c, c.ledger.last)
                return
            except (ConnectionError, OSError, asyncio.TimeoutError):
                if c.ws is not None:
                    ws, c.ws = c.ws, None
                    ws.close()

    async def connect(self, plan: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        errors: list[str] = []

        async def one(spec: dict[str, Any]) -> None:
            c = StormClient(spec)
            async with gate:
                # Setting up, not the storm: on a loaded machine 10,000 joins can outlast a hello's 30 s answer.
                for delay in (0.25, 1.0, 2.0, 4.0, None):
                    try:
                        await self._open(c, None)
                        break
                    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
                        if delay is None:
                            errors.append(f"{type(exc).__name__}: {exc}"[:200])
                            return
                        await asyncio.sleep(delay)
            self.clients.append(c)

        started = time.monotonic()
        await asyncio.gather(*(one(spec) for spec in plan))
        return {
            "connected": len(self.clients),
            "errors": len(errors),
            "first_errors": errors[:3],
            "seconds": time.monotonic() - started,
        }

    # -- messages ------------------------------------------------------------------------------------------------
    async def _send_loop(self, rate: float) -> None:
        senders = [c for c in self.clients if c.spec.get("sender")]
        if not senders or rate <= 0:
            return
        start, i, n = time.monotonic(), 0, 0
        while True:
            due = int(rate * (time.monotonic() - start)) - (self.sent + self.skipped)
            for _ in range(max(due, 0)):
                c = senders[i]
                i = (i + 1) % len(senders)
                if c.online and c.ws is not None:
                    n += 1
                    c.ws.send_text(
                        '{"type":"send","ticket":"%s","client_id":"s%d","body":"storm %d"}' % (c.spec["room"], n, n)
                    )
                    self.sent += 1
                else:
                    self.skipped += 1
            await asyncio.sleep(0.005)

    def status(self) -> dict[str, Any]:
        r = self.reconnecting
        done = [c for c in r if (c.caught_up_at if self.resumes else c.connected_at and c.ws is not None)]
        return {
            "lost": len(r),
            "done": len(done),
            "sent": self.sent,
            "skipped": self.skipped,
            "lost_after_storm": self.lost_after_storm,
            "first_try_at": min((c.first_try_at for c in r if c.first_try_at), default=0.0),
            "lost_at": min((c.lost_at for c in r), default=0.0),
            "last_connected_at": max((c.connected_at for c in done), default=0.0),
            "last_welcome_at": max((c.welcome_at for c in done), default=0.0),
            "last_caught_up_at": max((c.caught_up_at for c in done), default=0.0),
            "tries_max": max((c.tries for c in r), default=0),
            # Where a resume's time goes, per client: the WebSocket handshake, hello → welcome, join → joined.
            "phases_ms": _phases([c for c in done if c.first_try_at]),
            "open": sum(1 for c in self.clients if c.ws is not None),
            "cpu_s": _cpu_s(),
        }

    def check(self) -> dict[str, Any]:
        """After the storm and a quiet second: every member of a room that is back must have seen the same last seq,
        and no client a gap or a repeat."""
        by_room: dict[str, set[int | None]] = {}
        for c in self.clients:
            if c.online:  # a client still away is reported as not back, not as disagreeing
                by_room.setdefault(c.spec["room"], set()).add(c.ledger.last)
        return {
            "gaps": sum(c.ledger.gaps for c in self.clients),
            "repeats": sum(c.ledger.repeats for c in self.clients),
            "clients_with_gaps": sum(1 for c in self.clients if c.ledger.gaps),
            "not_back": sum(1 for c in self.clients if not c.online),
            "rooms": len(by_room),
            "rooms_disagreeing": sum(1 for seqs in by_room.values() if len(seqs) > 1),
            "highest_seq": max((c.ledger.last or 0 for c in self.clients), default=0),
        }

    async def command(self, name: str, args: dict[str, Any]) -> Any:
        if name == "connect":
            return await self.connect(args["plan"], args.get("concurrency", 200))
        if name == "send":
            self.sender_task = asyncio.ensure_future(self._send_loop(args["rate"]))
            return {"ok": True}
        if name == "arm":
            self.storm = True
            return {"ok": True}
        if name == "status":
            return self.status()
        if name == "quiet":
            if self.sender_task is not None:
                self.sender_task.cancel()
            return {"ok": True, "sent": self.sent, "skipped": self.skipped}
        if name == "check":
            return self.check()
        if name == "close":
            self.storm = False
            for c in self.clients:
                if c.ws is not None:
                    c.ws.close()
            await asyncio.sleep(0.2)
            return {"ok": True}
        return None


def _phases(clients: list[StormClient]) -> dict[str, list[float]]:
    """Per phase of the last successful attempt, the sorted durations in ms (the harness merges and summarises)."""
    connect = sorted(1000 * (c.connected_at - c.first_try_at) for c in clients)  # includes failed tries, if any
    hello = sorted(1000 * (c.welcome_at - c.connected_at) for c in clients if c.welcome_at)
    join = sorted(1000 * (c.caught_up_at - c.welcome_at) for c in clients if c.caught_up_at and c.welcome_at)
    return {"connect": connect, "hello": hello, "join": join}


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(pipe: Pipe, mode: str) -> None:
    """Entry point of a storm client process (multiprocessing spawn); mode "helpline", "bare" or "bare-resume"."""
    _raise_fd_limit()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(pipe, mode))


async def _serve(pipe: Pipe, mode: str) -> None:
    gen = StormGen(track=mode == "helpline", bare_resume=mode == "bare-resume")
    loop = asyncio.get_running_loop()
    while True:
        name, args = await loop.run_in_executor(None, pipe.recv)
        answer = await gen.command(name, args or {})
        pipe.send(answer if answer is not None else {"ok": True})
        if answer is None:
            return
