"""A chaos client behaves like widget/client.js: an outbox of unacked messages with fixed client ids, reconnect
with backoff to any live node, rejoin with `since` = the highest seq seen, resend what is not acked, page the
history over HTTP when `joined` does not reach `last_seq`, and a reconnect when the server falls silent.

It records every message it was shown, every ack and its presence view; the checker judges them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from support.core.tokens import issue_token
from tests.chaos.deployment import HEARTBEAT_S, Deployment
from tests.services import SECRET

SILENCE_S = max(2.0, 2 * HEARTBEAT_S) * 2 + 1  # the widget's rule: no frame for two ping periods (+1 s)
PING_S = max(2.0, HEARTBEAT_S)


@dataclass
class Pending:
    client_id: str
    body: str
    internal: bool
    sent_at: float = 0.0


@dataclass
class ClientStats:
    sent: int = 0  # distinct messages (client ids) created
    send_frames: int = 0  # send frames written, resends included
    acks: int = 0
    ack_conflicts: int = 0  # a client id acked with two different seqs (must be 0)
    reconnects: int = 0
    order_violations: int = 0  # a connection delivered a seq not above the previous one (must be 0)
    unavailable: int = 0
    other_errors: list[str] = field(default_factory=list)
    close_codes: Counter[int] = field(default_factory=Counter)
    http_fills: int = 0


class ChaosClient:
    def __init__(
        self,
        deployment: Deployment,
        ticket: str,
        user_id: str,
        role: str,
        seed: int,
        plan: str = "pro",
        send_every: tuple[float, float] = (0.3, 1.0),
    ) -> None:
        self.deployment = deployment
        self.ticket = ticket
        self.user_id = user_id
        self.role = role
        self.token = issue_token(SECRET, user_id, user_id.title(), plan, role, ttl_s=24 * 3600)
        self.rng = random.Random(seed)
        self.send_every = send_every
        self.outbox: dict[str, Pending] = {}
        self.sent: dict[str, Pending] = {}
        self.acked: dict[str, int] = {}
        self.seen: list[int] = []  # every seq shown to this user, over every connection, HTTP fills included
        self.seen_bodies: dict[int, str] = {}
        self.max_seen = 0
        self.presence: set[str] = set()
        self.joined = False
        self.node_name = ""
        self.sessions = 0  # connections opened so far
        self.stats = ClientStats()
        self.sending = True  # stops creating new messages (resends go on) when cleared
        self.stopping = False
        self.retired = asyncio.Event()  # set: stay away (a user who closed the laptop) until released
        self.paused = asyncio.Event()  # set: stop reading the socket (the slow client)
        self.small_receive_buffer = False
        self._counter = 0
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self.trace: list[str] = []  # what each connection did, for the report of a failed run

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"chaos-{self.user_id}")

    async def stop(self) -> None:
        self.stopping = True
        self.retired.clear()
        self.paused.clear()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 2)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def drop(self) -> None:
        """Close the socket now; the run loop reconnects."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def _run(self) -> None:
        backoff = 0.1
        while not self.stopping:
            while self.retired.is_set() and not self.stopping:
                await asyncio.sleep(0.05)
            node = self.deployment.pick_node(self.rng)
            if node is None:
                await asyncio.sleep(0.2)
                continue
            try:
                await self._session(node.ws_url, node.name)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            self.joined = False
            self._ws = None
            if self.stopping:
                return
            self.stats.reconnects += 1
            await asyncio.sleep(backoff * (0.5 + self.rng.random() / 2))
            backoff = min(backoff * 2, 1.0)

    async def _open(self, ws_url: str) -> ClientConnection:
        if not self.small_receive_buffer:
            return await connect(ws_url, max_size=None, open_timeout=3, ping_interval=None, close_timeout=1)
        # The slow client: a tiny receive buffer, so the server's send side fills as soon as it stops reading.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        host, port = ws_url.split("//")[1].split("/")[0].split(":")
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, int(port))), 3)
        return await connect(
            ws_url, sock=sock, max_size=None, max_queue=4, open_timeout=3, ping_interval=None, close_timeout=1
        )

    async def _session(self, ws_url: str, node_name: str) -> None:
        ws = self._ws = await self._open(ws_url)
        self.node_name = node_name
        self.sessions += 1
        self._note(f"connected to {node_name}, since {self.max_seen}")
        sender = pinger = None
        try:
            await ws.send(json.dumps({"type": "hello", "token": self.token}))
            await self._send_join(ws)
            sender = asyncio.create_task(self._send_loop(ws))
            pinger = asyncio.create_task(self._ping_loop(ws))
            ascending = 0  # this connection's delivered seqs must rise
            while True:
                while self.paused.is_set() and not self.stopping:
                    await asyncio.sleep(0.05)
                raw = await asyncio.wait_for(ws.recv(), SILENCE_S)
                ascending = await self._on_frame(ws, json.loads(raw), ascending)
        except asyncio.TimeoutError:
            pass  # silent server (SIGSTOP'd node, stalled network): drop and reconnect elsewhere
        finally:
            for task in (sender, pinger):
                if task:
                    task.cancel()
            self.joined = False
            if ws.close_code is not None:
                self.stats.close_codes[ws.close_code] += 1
            self._note(f"dropped (close {ws.close_code})")
            ws.transport.abort()

    async def _send_join(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "join", "ticket": self.ticket, "since": self.max_seen}))

    # -- frames ------------------------------------------------------------------------------------------------
    async def _on_frame(self, ws: ClientConnection, frame: dict[str, Any], ascending: int) -> int:
        kind = frame.get("type")
        if kind == "joined":
            seqs = [m["seq"] for m in frame["messages"]]
            self._note(f"joined: last_seq {frame['last_seq']}, {len(seqs)} messages {seqs[:1]}..{seqs[-1:]}")
            for message in frame["messages"]:
                ascending = self._shown(message, ascending)
            if frame["last_seq"] > self.max_seen:  # joined holds at most 1,000: page the rest, as the widget does
                await self._fill(frame["last_seq"])
                ascending = max(ascending, self.max_seen)
            self.presence = {u["id"] for u in frame["presence"]}
            self.joined = True
            for pending in list(self.outbox.values()):
                await self._write_send(ws, pending)
        elif kind == "message":
            ascending = self._shown(frame, ascending)
        elif kind == "ack":
            self._acked(frame["client_id"], frame["seq"])
        elif kind == "presence":
            (self.presence.add if frame["online"] else self.presence.discard)(frame["user"]["id"])
        elif kind == "error":
            await self._on_error(ws, frame)
        return ascending

    def _shown(self, message: dict[str, Any], ascending: int) -> int:
        seq = int(message["seq"])
        if seq <= ascending:
            self.stats.order_violations += 1
            self._note(f"seq {seq} after {ascending} on one connection")
        self._record(seq, message)
        if message.get("client_id") in self.outbox and message["author"]["id"] == self.user_id:
            self._acked(message["client_id"], seq)  # delivered: its ack may have been lost with a node
        return seq

    def _note(self, what: str) -> None:
        self.trace.append(f"{time.monotonic():.2f} {what}")

    def _record(self, seq: int, message: dict[str, Any]) -> None:
        if seq in self.seen_bodies:
            self._note(f"seq {seq} shown again")
        self.seen.append(seq)
        self.seen_bodies[seq] = message["body"]
        self.max_seen = max(self.max_seen, seq)

    def _acked(self, client_id: str, seq: int) -> None:
        self.stats.acks += 1
        first = self.acked.setdefault(client_id, seq)
        if first != seq:
            self.stats.ack_conflicts += 1
        self.outbox.pop(client_id, None)

    async def _on_error(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        code, ref = frame.get("code"), frame.get("ref")
        if code != "unavailable":
            self.stats.other_errors.append(f"{code}: {frame.get('message')}")
            return
        self.stats.unavailable += 1
        retry = asyncio.create_task(self._retry(ws, ref))
        self._retries.add(retry)
        retry.add_done_callback(self._retries.discard)

    async def _retry(self, ws: ClientConnection, ref: str | None) -> None:
        """The bus or database is down: the same frame again a little later, on the same connection."""
        await asyncio.sleep(0.3)
        with contextlib.suppress(Exception):
            if ref in self.outbox:
                await self._write_send(ws, self.outbox[ref])
            elif ref is None and not self.joined:
                await self._send_join(ws)

    async def _fill(self, last_seq: int) -> None:
        """GET /api/tickets/{id}?after_seq= pages from the highest seq seen up to last_seq."""
        self.stats.http_fills += 1
        self._note(f"paging from {self.max_seen} to {last_seq} over HTTP")
        async with httpx.AsyncClient(timeout=5, headers={"Authorization": f"Bearer {self.token}"}) as http:
            while self.max_seen < last_seq:
                node = self.deployment.pick_node(self.rng)
                if node is None:
                    await asyncio.sleep(0.2)
                    continue
                try:
                    response = await http.get(
                        f"{node.url}/api/tickets/{self.ticket}", params={"after_seq": self.max_seen, "limit": 200}
                    )
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
                    continue
                if response.status_code != 200:
                    await asyncio.sleep(0.2)
                    continue
                page = response.json()
                for message in page["messages"]:
                    if message["seq"] <= last_seq:
                        self._record(message["seq"], message)
                if not page["has_more"] or not page["messages"]:
                    return

    # -- sending -----------------------------------------------------------------------------------------------
    async def _send_loop(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*self.send_every))
            if self.joined and self.sending and len(self.outbox) < 20:
                await self._write_send(ws, self.new_message())

    def new_message(self, body: str | None = None) -> Pending:
        self._counter += 1
        client_id = f"{self.user_id}-{self._counter}"
        internal = self.role == "agent" and self.rng.random() < 0.15
        pending = Pending(client_id, body or f"{self.user_id} says #{self._counter}", internal)
        self.outbox[client_id] = self.sent[client_id] = pending
        self.stats.sent += 1
        return pending

    async def _write_send(self, ws: ClientConnection, pending: Pending) -> None:
        pending.sent_at = time.monotonic()
        self.stats.send_frames += 1
        await ws.send(
            json.dumps(
                {
                    "type": "send",
                    "ticket": self.ticket,
                    "client_id": pending.client_id,
                    "body": pending.body,
                    "internal": pending.internal,
                }
            )
        )

    async def burst(self, count: int, body_bytes: int) -> list[str]:
        """Send `count` messages at once on the open connection (the flood that leaves a slow client behind)."""
        assert self._ws is not None and self.joined
        filler = "x" * body_bytes
        ids = []
        for _ in range(count):
            pending = self.new_message(f"{self.user_id} burst {filler}")
            pending.internal = False
            ids.append(pending.client_id)
            await self._write_send(self._ws, pending)
        return ids

    async def _ping_loop(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await ws.send(json.dumps({"type": "ping"}))
