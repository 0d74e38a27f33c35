"""One WebSocket connection: hello, the frame loop, a bounded send queue, and what it joined.

Errors are values here: a bad frame gets an error frame and the connection stays usable.
Close codes: 4401 no/bad hello, 4409 fell too far behind (rejoin with `since`), 4429 too many frames or
connections.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import time
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime import metrics, frames
from support.workflow.assignment import stop_watching
from support.core import log_context
from support.core.tokens import Identity, TokenError
from support.core.bus import ReadEvent, TypingEvent
from support.core.model import Message, User
from support.core.errors import Unavailable
from realtime.limits import TokenBucket
from support.core.errors import TicketError
from realtime.server import EXTENSION, FrameWriter

if TYPE_CHECKING:
    from realtime.gateway_port import Node


log = logging.getLogger("helpline.connection")

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4409
CLOSE_RATE_LIMITED = 4429
REFUSALS_BEFORE_CLOSE = 50


class ConnectionIds:
    """Ids unique across every node and restart: a random prefix per process, then a count. A connection's id names
    it in presence and the agents' room on every node; drawing 8 random bytes for each (a getrandom call) was a
    visible part of a reconnect storm's handshakes. A forked child draws its own prefix."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = secrets.token_hex(6)
        self._count = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._count):x}"


_connection_ids = ConnectionIds()


def _ack_frame(message: Message) -> frames.Outgoing:
    return frames.encode(frames.Ack(message.client_id, message.ticket, message.id, message.seq))


class JoinBuffer:
    """Live frames for a ticket that arrive while its snapshot is read: presence first, then messages."""

    __slots__ = ("messages", "presence")

    def __init__(self) -> None:
        self.messages: list[tuple[Message, frames.Outgoing]] = []
        self.presence: list[frames.Outgoing] = []


class Connection:
    # Slots, and join buffers only while a join is under way: at 20,000 idle connections every object counts.
    __slots__ = (
        "id",
        "websocket",
        "gateway",
        "identity",
        "public_user",
        "user_id",
        "role",
        "tickets",
        "_joins",
        "_shown_seq",
        "_awaiting_ack",
        "_typing",
        "_closing",
        "_frame_budget",
        "_refusals",
        "ip",
        "_write",
        "_buffered",
        "_send_limit",
        "_outbox",
        "_handling",
        "_close_after",
        "__weakref__",
    )

    def __init__(self, websocket: WebSocket, gateway: "Node") -> None:
        self.id = _connection_ids.next()
        self.websocket = websocket
        self.gateway = gateway
        self.identity: Identity | None = None
        self.public_user: User | None = None
        self.user_id = ""
        self.role = ""
        self.tickets: set[str] = set()
        self._joins: dict[str, JoinBuffer] | None = None  # what arrived for a ticket while it was being joined
        self._shown_seq: dict[str, int] = {}  # per ticket, the highest seq this connection was sent
        self._awaiting_ack: dict[tuple[str, str], bool] = {}
        self._typing: set[str] = set()
        self._closing = False
        self._handling = False  # a frame is being handled (a send may be waiting for its commit)
        self._close_after: tuple[int, str] | None = None
        self._frame_budget = TokenBucket(gateway.settings.frame_rate_per_s, gateway.settings.frame_burst)
        self._refusals = 0
        self.ip = websocket.client.host if websocket.client else "unknown"
        # Under the gateway's own server protocol a frame is written to the socket at once, and a slow reader's
        # backlog is the transport's buffer; elsewhere frames go through a bounded queue and a writer task.
        writer: FrameWriter | None = websocket.scope.get("extensions", {}).get(EXTENSION)
        self._write = writer["write"] if writer else None
        self._buffered = writer["buffered"] if writer else None
        self._send_limit = gateway.settings.send_buffer_bytes
        self._outbox: asyncio.Queue[str] | None = (
            None if writer else asyncio.Queue(max(1, gateway.settings.send_buffer_bytes // 1024))
        )  # the same bound, counting about a KiB a frame

    # -- sending -----------------------------------------------------------------------------------------------
    def push(self, frame: frames.Outgoing, then: frames.Outgoing | None = None) -> None:
        """Send a frame (and `then` right after it, in one write) without waiting; a client that cannot keep up is
        cut off, not waited for."""
        if self._closing:
            return
        metrics.FRAMES_OUT.count += 1 if then is None else 2
        if self._write is not None:
            wrote = self._write(frame.wire if then is None else frame.wire + then.wire)
            if wrote and self._buffered() > self._send_limit:  # type: ignore[misc]
                self._too_slow()
            return
        assert self._outbox is not None
        try:
            self._outbox.put_nowait(frame.text)
            if then is not None:
                self._outbox.put_nowait(then.text)
        except asyncio.QueueFull:
            self._too_slow()

    def _too_slow(self) -> None:
        metrics.SLOW_CLIENTS.inc()
        self.close_soon(CLOSE_TOO_SLOW, "too far behind; rejoin with since")

    def send_error(self, code: str, message: str, ref: str | None = None, reason: str | None = None) -> None:
        metrics.ERRORS.labels(code).inc()
        self.push(frames.encode(frames.Error(code=code, message=message, ref=ref, reason=reason)))

    def close_soon(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        asyncio.get_running_loop().create_task(self._close(code, reason))

    def close_after_frame(self, code: int, reason: str) -> None:
        """Close once the frame in hand is answered (the drain): an ack is not cut off by its own close."""
        if self._handling:
            self._close_after = (code, reason)
        else:
            self.close_soon(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self.websocket.close(code, reason)
        except Exception:
            pass

    async def _write_outbox(self, outbox: asyncio.Queue[str]) -> None:
        ws = self.websocket
        while True:
            frame = await outbox.get()
            await ws.send_text(frame)

    def deliver_message(self, message: Message, frame: frames.Outgoing) -> None:
        if self._joins is not None and message.ticket in self._joins:
            self._joins[message.ticket].messages.append((message, frame))  # sent after the snapshot: none missed
            return
        # A node that refills what it missed while Redis was away may hand on what a later join already showed.
        if message.seq <= self._shown_seq.get(message.ticket, 0):
            return
        self._shown_seq[message.ticket] = message.seq
        # The author check is half of the key: another author's message with a client_id this connection is
        # awaiting is only delivered (idempotency is per (ticket, author, client_id)), never taken as the ack.
        if message.author.id == self.user_id and self._awaiting_ack.get((message.ticket, message.client_id)) is False:
            self._awaiting_ack[(message.ticket, message.client_id)] = True  # the ack goes out with the message
            self.push(_ack_frame(message), frame)
            return
        self.push(frame)

    def deliver_presence(self, ticket: str, frame: frames.Outgoing) -> None:
        """After `joined`, never before it: the snapshot's member list would overwrite the change."""
        if self._joins is not None and ticket in self._joins:
            self._joins[ticket].presence.append(frame)
            return
        self.push(frame)

    # -- life cycle --------------------------------------------------------------------------------------------
    async def run(self) -> None:
        log_context.connection_id.set(self.id)  # this task's log lines name the connection (its own context)
        ws = self.websocket
        await ws.accept()
        limits = self.gateway.connection_limits
        if not (await self.gateway.budgets.take_connection(self.ip)).allowed:
            await ws.close(CLOSE_RATE_LIMITED, "too many new connections from this address; retry later")
            return
        if not limits.per_ip.acquire(self.ip):
            await ws.close(CLOSE_RATE_LIMITED, "too many connections from this address")
            return
        writer = (
            None
            if self._outbox is None
            else asyncio.create_task(self._write_outbox(self._outbox), name=f"ws-writer-{self.id}")
        )
        try:
            if await self._hello():
                if not limits.per_user.acquire(self.user_id):
                    await ws.close(CLOSE_RATE_LIMITED, "too many connections for this user")
                    return
                metrics.CONNECTIONS.inc()
                self.gateway.hub.add_connection(self)
                try:
                    await self._frames()
                finally:
                    metrics.CONNECTIONS.dec()
                    limits.per_user.release(self.user_id)
                    await self._cleanup()
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("connection %s failed", self.id)
        finally:
            limits.per_ip.release(self.ip)
            await self._drain(writer)

    async def _drain(self, writer: asyncio.Task[None] | None) -> None:
        """The fallback writer sends what is queued (for up to a second) before it stops; direct writes need not."""
        if writer is None or self._outbox is None:
            return
        if not self._closing and self.websocket.application_state != WebSocketState.DISCONNECTED:
            deadline = time.monotonic() + 1
            while not self._outbox.empty() and time.monotonic() < deadline and not writer.done():
                await asyncio.sleep(0.01)
        writer.cancel()
        try:
            await writer
        except (asyncio.CancelledError, Exception):
            pass

    async def _hello(self) -> bool:
        settings = self.gateway.settings
        try:
            # A timeout scope, not wait_for: no task and no second timer per connection (a storm is thousands of hellos).
            async with asyncio.timeout(settings.hello_timeout_s):
                raw = await self._receive_text()
            frame = frames.decode_client_frame(raw) if raw is not None else None
        except (TimeoutError, frames.FrameError):
            frame = None
        if not isinstance(frame, frames.Hello):
            await self.websocket.close(CLOSE_UNAUTHORIZED, "hello with a valid token first")
            return False
        try:
            identity = await self.gateway.verifier.verify(frame.token)
        except TokenError:
            await self.websocket.close(CLOSE_UNAUTHORIZED, "token refused")
            return False
        self.identity = identity
        self.user_id, self.role = identity.id, identity.role
        self.public_user = User(identity.id, identity.name, identity.role)
        self.push(
            frames.encode(
                frames.Welcome(
                    frames.WelcomeUser(identity.id, identity.name, identity.role, identity.plan), settings.heartbeat_s
                )
            )
        )
        return True

    async def _receive_text(self) -> str | None:
        """The next text frame; None for a binary one. Raises WebSocketDisconnect when the peer leaves."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        return text if text is not None else None

    async def _frames(self) -> None:
        while True:
            raw = await self._receive_text()
            if self._closing:
                continue  # read after our close: not handled, so never acked; the client resends it elsewhere
            if not self._frame_budget.take():
                self._refusals += 1
                if self._refusals > REFUSALS_BEFORE_CLOSE:
                    await self.websocket.close(CLOSE_RATE_LIMITED, "too many frames")
                    return
                self.send_error("rate_limited", "too many frames; slow down")
                continue
            if raw is None:
                self.send_error("bad_request", "binary frames are not accepted; send JSON text")
                continue
            try:
                frame = frames.decode_client_frame(raw)
            except frames.FrameError as exc:
                metrics.FRAMES_IN.labels("invalid").inc()
                self.send_error("bad_request", str(exc), exc.ref)
                continue
            metrics.count_frame_in(type(frame))
            self._handling = True
            try:
                await self.gateway.handle(self, frame)
            except TicketError as exc:
                self.send_error(exc.code, exc.message, getattr(frame, "client_id", None), exc.reason)
            except Unavailable as exc:  # the bus (Redis) is down: say so, keep the connection
                self.send_error("unavailable", str(exc) or "retry later", getattr(frame, "client_id", None))
            except (SQLAlchemyError, OSError) as exc:  # the database is down: the same, not a dead connection
                log.warning("%s failed: database unreachable (%s)", type(frame).__name__, exc.__class__.__name__)
                self.send_error("unavailable", "the database is unreachable; retry", getattr(frame, "client_id", None))
            finally:
                self._handling = False
            if self._close_after is not None:
                self.close_soon(*self._close_after)

    async def _cleanup(self) -> None:
        was_watching_queue = self in self.gateway.hub.queue_watchers
        self.gateway.hub.remove_connection(self)
        if was_watching_queue and self.public_user is not None:
            try:  # no longer online for auto-assignment (realtime/assignment.py)
                await stop_watching(self.gateway.bus, self.id, self.public_user)
            except Exception:
                log.warning("leaving the agents' room on disconnect failed", exc_info=True)
        for ticket in list(self.tickets):
            try:
                await self.leave(ticket)
            except Exception:
                log.warning("leaving %s on disconnect failed", ticket, exc_info=True, extra={"ticket_id": ticket})

    # -- membership --------------------------------------------------------------------------------------------
    def start_joining(self, ticket: str) -> None:
        if self._joins is None:
            self._joins = {}
        self._joins.setdefault(ticket, JoinBuffer())

    def finish_joining(self, ticket: str, joined: frames.Joined) -> None:
        """Send the snapshot, then what arrived meanwhile, skipping what the snapshot already held."""
        self.push(frames.encode(joined))
        self._shown_seq[ticket] = joined.last_seq
        buffer = self._end_join(ticket)
        if buffer is None:
            return
        for frame in buffer.presence:
            self.push(frame)
        for message, frame in buffer.messages:
            if message.seq > joined.last_seq:
                self.deliver_message(message, frame)

    def abort_joining(self, ticket: str) -> None:
        self._end_join(ticket)

    def _end_join(self, ticket: str) -> "JoinBuffer | None":
        if self._joins is None:
            return None
        buffer = self._joins.pop(ticket, None)
        if not self._joins:
            self._joins = None
        return buffer

    async def leave(self, ticket: str) -> None:
        if ticket not in self.tickets:
            return
        self.tickets.discard(ticket)
        self._shown_seq.pop(ticket, None)
        bus, user = self.gateway.bus, self.public_user
        assert user is not None
        if ticket in self._typing:
            self._typing.discard(ticket)
            await bus.publish(ticket, TypingEvent(ticket, user, False))
        await self.gateway.hub.remove_member(self, ticket)
        await bus.presence_leave(ticket, self.id, user)

    def expect_ack(self, ticket: str, client_id: str) -> None:
        self._awaiting_ack.setdefault((ticket, client_id), False)

    def finish_ack(self, message: Message) -> None:
        """Ack once: the live message may already have carried the ack out."""
        key = (message.ticket, message.client_id)
        if not self._awaiting_ack.pop(key, False):
            self.push(_ack_frame(message))

    def typing_tickets(self) -> set[str]:
        return self._typing

    def forget_ack(self, ticket: str, client_id: str) -> None:
        self._awaiting_ack.pop((ticket, client_id), None)

    def note_typing(self, ticket: str, active: bool) -> None:
        (self._typing.add if active else self._typing.discard)(ticket)

    def read_event(self, ticket: str, seq: int) -> ReadEvent:
        assert self.public_user is not None
        return ReadEvent(ticket, self.public_user, seq, origin=self.id)
