"""Redis connections for the bus's hot paths: RESP through hiredis on an asyncio.Protocol, no per-command pool,
retry or timeout machinery. Commands of one loop tick leave in one write; a lost connection fails every command in
flight with Unavailable, so nothing in flight is ever acked.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Sequence

import hiredis
from redis.asyncio.connection import SSLConnection, parse_url
from redis.exceptions import RedisError

from support.core.errors import Unavailable

log = logging.getLogger("helpline.bus.wire")

ReplyError = hiredis.ReplyError  # an error reply (e.g. NOSCRIPT), returned by the parser rather than raised
CONNECT_TIMEOUT_S = 2.0
REPLY_TIMEOUT_S = 5.0  # replies overdue this long (while commands wait) mean the connection is dead
WATCH_EVERY_S = 1.0


Locate = Callable[[], Awaitable[tuple[str, int]]]  # where the primary is now (asked of the Sentinels)
TLS_OPTIONS = (
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_ca_path",
    "ssl_ca_data",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_password",
    "ssl_check_hostname",
)


@dataclass(frozen=True)
class Endpoint:
    """Where a Redis is and how to sign in, from redis-py connection options (a `redis://`, `rediss://` or
    `unix://` URL, or a Sentinel target's primary): `locate`, when set, finds the primary before each connection."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    tls: bool = False
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls_options: tuple[tuple[str, Any], ...] = ()
    locate: Locate | None = None

    @classmethod
    def from_url(cls, url: str) -> "Endpoint":
        return cls.from_options(dict(parse_url(url)))

    @classmethod
    def from_options(cls, options: dict[str, Any], locate: Locate | None = None) -> "Endpoint":
        tls = options.get("connection_class") is SSLConnection or bool(options.get("ssl"))
        return cls(
            host=options.get("host") or "localhost",
            port=int(options.get("port") or 6379),
            path=options.get("path"),
            tls=tls,
            db=int(options.get("db") or 0),
            username=options.get("username"),
            password=options.get("password"),
            tls_options=tuple((k, options[k]) for k in TLS_OPTIONS if k in options),
            locate=locate,
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings of the URL (as redis-py reads them), so the hot path verifies what the pool does."""
        if not self.tls:
            return None
        options = dict(self.tls_options)
        context = ssl.create_default_context(
            cafile=options.get("ssl_ca_certs"), capath=options.get("ssl_ca_path"), cadata=options.get("ssl_ca_data")
        )
        reqs = options.get("ssl_cert_reqs", "required")
        mode = (
            reqs
            if isinstance(reqs, ssl.VerifyMode)
            else {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(str(reqs).lower(), ssl.CERT_REQUIRED)
        )
        check = options.get("ssl_check_hostname", True)
        context.check_hostname = mode != ssl.CERT_NONE and str(check).lower() not in ("false", "0", "no")
        context.verify_mode = mode
        if options.get("ssl_certfile"):
            context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"), options.get("ssl_password"))
        return context


class Wire(asyncio.Protocol):
    """One connection. Replies go to `on_reply`; by default each resolves the oldest `request` still waiting."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._reader = hiredis.Reader()
        self._transport: asyncio.Transport | None = None
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._out: list[bytes] = []
        self._replicated: _Replicated | None = None  # this write's WAIT and what runs behind it
        self._lost_because = ""  # why this side dropped the connection, for what was in flight
        self.on_reply: Callable[[Any], None] = self._resolve_oldest
        self.heard = 0  # chunks received so far: watchdogs compare it, no clock read per reply
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol --------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.heard += 1
        self._reader.feed(data)
        try:
            reply = self._reader.gets()
            while reply is not False:
                self.on_reply(reply)
                reply = self._reader.gets()
        except Exception as exc:  # not RESP, or a reply nobody asked for: replies can no longer be matched
            log.warning("dropping a Redis connection out of step (%r)", exc)
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._out.clear()
        failure = Unavailable(
            self._lost_because or f"Redis connection lost ({exc.__class__.__name__ if exc else 'closed'})"
        )
        if self._replicated is not None:
            self._waiting.extend(self._replicated.futures())
            self._replicated = None
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(failure)
        if not self.closed.done():
            self.closed.set_result(None)

    # -- sending -----------------------------------------------------------------------------------------------
    @property
    def lost(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def request(self, args: Sequence[Any]) -> "asyncio.Future[Any]":
        """Queue a command; the future gets its reply (an error reply as a ReplyError value)."""
        future = self._loop.create_future()
        if self.lost:
            future.set_exception(Unavailable("Redis connection lost"))
            return future
        self._waiting.append(future)
        self.send(args)
        return future

    def request_replicated(
        self, args: Sequence[Any], replicas: int, timeout_ms: int, then: Sequence[Any]
    ) -> "tuple[asyncio.Future[Any], asyncio.Future[Any]]":
        """Queue a command, and `then` to run once `replicas` replicas have it: the write ends with one
        `WAIT replicas 0` after every such command, then their `then`s. Redis runs nothing of a connection while
        its WAIT blocks, and a WAIT with no timeout returns only when the replicas have everything before it; so
        the replicas' round trip is paid once per batch, and what follows runs only after it, with no second round
        trip. If they take longer than `timeout_ms`, the connection is dropped and Redis frees the client with what
        waited behind its WAIT (if the replicas answer in the instant before, the `then`s run, and what they follow
        is replicated all the same): every command in flight fails with Unavailable. The second future gets
        `then`'s reply."""
        reply = self.request(args)
        if reply.done():
            return reply, reply
        if self._replicated is None:
            self._replicated = _Replicated(self._loop.create_future(), replicas, timeout_ms)
            self._replicated.wait.add_done_callback(_retrieve)  # nobody awaits the WAIT itself: its `then`s say
        after = self._loop.create_future()
        self._replicated.after.append((after, hiredis.pack_command(tuple(then))))
        return reply, after

    def send(self, args: Sequence[Any]) -> None:
        """Queue a command whose replies are not waited for (pub/sub: they come back as pushes)."""
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(hiredis.pack_command(tuple(args)))

    def _flush(self) -> None:
        replicated, self._replicated = self._replicated, None
        if replicated is not None and not self.lost:
            # After every command of this write, so the WAIT covers them all; their `then`s behind it.
            self._out.append(replicated.wait_command())
            self._out.extend(command for _, command in replicated.after)
            self._waiting.extend(replicated.futures())
            overdue = self._loop.call_later(replicated.timeout_ms / 1000, self._replicas_overdue, replicated)
            replicated.wait.add_done_callback(lambda _: overdue.cancel())
        elif replicated is not None:
            for future in replicated.futures():
                future.set_exception(Unavailable("Redis connection lost"))
        if self._out and not self.lost:
            assert self._transport is not None
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def _resolve_oldest(self, reply: Any) -> None:
        future = self._waiting.popleft()
        if not future.done():  # a caller that was cancelled no longer wants it
            future.set_result(reply)

    def _replicas_overdue(self, replicated: "_Replicated") -> None:
        if replicated.wait.done() or self.lost:
            return
        log.warning(
            "fewer than %d replicas acknowledged a write within %d ms; dropping the connection so that nothing "
            "behind its WAIT runs (its commits are answered unavailable)",
            replicated.replicas,
            replicated.timeout_ms,
        )
        self._lost_because = f"commit reached fewer than {replicated.replicas} replicas in {replicated.timeout_ms} ms"
        self.abort()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


@dataclass
class _Replicated:
    """A write's WAIT (its reply's future) and the commands that run behind it, each with its reply's future."""

    wait: "asyncio.Future[Any]"
    replicas: int
    timeout_ms: int
    after: list[tuple["asyncio.Future[Any]", bytes]] = field(default_factory=list)

    def wait_command(self) -> bytes:
        command: bytes = hiredis.pack_command(("WAIT", self.replicas, 0))  # type: ignore[arg-type]
        return command

    def futures(self) -> list["asyncio.Future[Any]"]:
        """In the order of their replies: the WAIT's, then each `then`'s."""
        return [self.wait, *(future for future, _ in self.after)]


async def open_wire(endpoint: Endpoint, name: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Wire:
    """Connect, sign in, select the database and name the client (it shows in CLIENT LIST); else Unavailable.
    Behind Sentinel: to the primary the sentinels name now, and only if it says it is one (ROLE)."""
    loop = asyncio.get_running_loop()
    wire: Wire | None = None
    try:
        async with asyncio.timeout(timeout_s):
            if endpoint.path:
                _, wire = await loop.create_unix_connection(Wire, endpoint.path)
            else:
                host, port = await endpoint.locate() if endpoint.locate else (endpoint.host, endpoint.port)
                _, wire = await loop.create_connection(
                    Wire, host, port, ssl=endpoint.ssl_context(), server_hostname=host if endpoint.tls else None
                )
            setup: list[tuple[Any, ...]] = []
            if endpoint.password is not None:
                setup.append(
                    ("AUTH", endpoint.username, endpoint.password) if endpoint.username else ("AUTH", endpoint.password)
                )
            if endpoint.db:
                setup.append(("SELECT", endpoint.db))
            setup.append(("CLIENT", "SETNAME", name))
            if endpoint.locate:
                setup.append(("ROLE",))  # a sentinel's view may lag a failover: a demoted primary says "slave"
            replies = await asyncio.gather(*(wire.request(command) for command in setup))
            for reply in replies:
                if isinstance(reply, ReplyError):
                    raise Unavailable(f"Redis refused the connection setup: {reply}")
            if endpoint.locate and replies[-1][0] != b"master":
                raise Unavailable(f"the sentinels named {host}:{port} as the primary, but it is a {replies[-1][0]!r}")
        return wire
    except (OSError, asyncio.TimeoutError, Unavailable, RedisError) as exc:
        if wire is not None:
            wire.abort()
        if isinstance(exc, Unavailable):
            raise
        raise Unavailable(f"Redis is unreachable ({exc.__class__.__name__})") from None


class CommandPipe:
    """Many concurrent callers on one connection, automatically pipelined; (re)connected on demand.

    Replies are matched in order. When the connection is lost, or nothing comes back for `reply_timeout_s` while
    commands wait, every command in flight fails with Unavailable: Redis may have run some of them, so callers must
    not ack them (the client's retry with the same client_id is idempotent)."""

    def __init__(self, endpoint: Endpoint, name: str, reply_timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self._endpoint = endpoint
        self._name = name
        self._reply_timeout_s = reply_timeout_s
        self._wire: Wire | None = None
        self._opening: asyncio.Task[Wire] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._stalled_since = (0, 0.0)  # (wire.heard, when it last changed while commands waited)

    async def call(self, *args: Any) -> Any:
        """The command's reply; an error reply raises ReplyError; a connection problem raises Unavailable."""
        wire = self._wire
        if wire is None or wire.lost:
            wire = await self._connected()
        reply = await wire.request(args)
        if type(reply) is ReplyError:
            raise self._refused(wire, reply)
        return reply

    async def call_replicated(
        self, replicas: int, timeout_ms: int, command: Sequence[Any], then: Sequence[Any]
    ) -> tuple[Any, Any]:
        """The command's reply (an error reply raises ReplyError) and `then`'s (an error reply as a ReplyError
        value), which Redis runs only once `replicas` replicas have the command and everything before it;
        Unavailable when they do not within `timeout_ms` (Wire.request_replicated)."""
        wire = self._wire
        if wire is None or wire.lost:
            wire = await self._connected()
        reply_future, then_future = wire.request_replicated(command, replicas, timeout_ms, then)
        then_future.add_done_callback(_retrieve)
        reply = await reply_future
        if type(reply) is ReplyError:
            raise self._refused(wire, reply)
        after = await then_future
        if type(after) is ReplyError and str(after).startswith("READONLY"):
            raise self._refused(wire, after)
        return reply, after

    async def call_asking(self, *args: Any) -> Any:
        """ASKING and the command in one write, so nothing else runs between them (a cluster's ASK redirect)."""
        wire = self._wire
        if wire is None or wire.lost:
            wire = await self._connected()
        asking = wire.request(("ASKING",))
        asking.add_done_callback(_retrieve)
        reply = await wire.request(args)
        if type(reply) is ReplyError:
            raise self._refused(wire, reply)
        return reply

    def _refused(self, wire: Wire, reply: ReplyError) -> Exception:
        """READONLY: this is a primary demoted by a failover; drop it, and the next call finds the new one."""
        if str(reply).startswith("READONLY"):
            log.warning("Redis answered READONLY (a failover demoted it); reconnecting to the primary")
            wire.abort()
            return Unavailable("Redis is failing over (READONLY)")
        return reply

    def drop(self) -> None:
        """Abort the connection (the primary moved): commands in flight fail with Unavailable, the next reconnects."""
        if self._wire is not None:
            self._wire.abort()

    async def _connected(self) -> Wire:
        # Callers arriving while Redis is being reached share one attempt and its outcome.
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(self._open())
            self._opening.add_done_callback(_retrieve)
        return await asyncio.shield(self._opening)

    async def _open(self) -> Wire:
        wire = await open_wire(self._endpoint, self._name)
        self._wire = wire
        if self._watchdog is None:
            self._watch()
        return wire

    def _watch(self) -> None:
        """Once a second: abort a connection on which commands have waited too long without a byte back."""
        wire, now = self._wire, asyncio.get_running_loop().time()
        if wire is not None and not wire.lost:
            heard, since = self._stalled_since
            if not wire.waiting or wire.heard != heard:
                self._stalled_since = (wire.heard, now)
            elif now - since >= self._reply_timeout_s:
                log.warning(
                    "Redis sent no reply for %.0f s with %d commands waiting; reconnecting", now - since, wire.waiting
                )
                wire.abort()
        self._watchdog = asyncio.get_running_loop().call_later(WATCH_EVERY_S, self._watch)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._wire is not None:
            self._wire.abort()
            self._wire = None


def _retrieve(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled():
        task.exception()  # seen by whoever awaited it; not "never retrieved" when nobody was left waiting
