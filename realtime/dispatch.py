"""A gateway node's dispatch: what each client frame does (frame → service call), and the node's parts.

Frame handlers check with the ticket rules, act through TicketService and the bus, and answer on the connection.
The parts (store, bus, services) are built by the composition root (helpline/node.py) and handed in.
"""

from __future__ import annotations

import asyncio
import logging
import time

from realtime import frames, metrics, presence
from realtime.connection import Connection
from realtime.hub import Hub
from realtime.limits import ConnectionLimits
from realtime.rate_budgets import RateBudgets
from support.core import policy
from support.core.bus import Bus, TypingEvent
from support.core.errors import TicketError
from support.core.settings import Settings
from support.core.stores import TicketStore
from support.core.tokens import TokenVerifier
from support.tickets.service import TicketService
from support.workflow.assignment import watch_queue
from support.workflow.service import Workflow

log = logging.getLogger("helpline.gateway")
QUEUE_SNAPSHOT = 200


class Gateway:
    def __init__(
        self, settings: Settings, store: TicketStore, bus: Bus, tickets: TicketService, workflow: Workflow
    ) -> None:
        self.settings = settings
        self.verifier = TokenVerifier.from_settings(settings)  # a key it cannot use stops start-up here
        self.store = store
        self.bus = bus
        self.tickets = tickets
        self.workflow = workflow
        self.hub = Hub(self.bus, self.tickets, settings.typing_ttl_s)
        self.connection_limits = ConnectionLimits(settings.max_connections_per_user, settings.max_connections_per_ip)
        self.budgets = RateBudgets(settings)
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bus.start(self.hub.deliver)
        self._heartbeat = asyncio.create_task(
            presence.heartbeats(self.hub, self.bus, self.settings.heartbeat_s), name="heartbeats"
        )

    async def close(self) -> None:
        if self._heartbeat:
            self._heartbeat.cancel()
        for connection in list(self.hub.connections):
            connection.close_soon(1001, "server shutting down")
        await self.bus.close()
        await self.budgets.close()
        await self.store.close()
        await self.verifier.close()

    async def ready(self) -> dict[str, bool]:
        database, bus = await asyncio.gather(self.store.ping(), self.bus.ready())
        return {"database": database, "bus": bus}

    # -- client frames -----------------------------------------------------------------------------------------
    async def handle(self, c: Connection, frame: frames.ClientFrame) -> None:
        identity = c.identity
        assert identity is not None and c.public_user is not None
        if isinstance(frame, frames.Send):
            await self._send(c, frame)
        elif isinstance(frame, frames.Join):
            await self._join(c, frame)
        elif isinstance(frame, frames.Leave):
            await c.leave(frame.ticket)
        elif isinstance(frame, frames.Typing):
            self._require_member(c, frame.ticket)
            if frame.internal and not identity.is_staff:
                raise TicketError("forbidden", "internal notes are for agents only")
            c.note_typing(frame.ticket, frame.active)
            await self.bus.publish(frame.ticket, TypingEvent(frame.ticket, c.public_user, frame.active, frame.internal))
        elif isinstance(frame, frames.Read):
            self._require_member(c, frame.ticket)
            await self.tickets.mark_read(identity, frame.ticket, frame.seq)
            await self.bus.publish(frame.ticket, c.read_event(frame.ticket, frame.seq))
        elif isinstance(frame, frames.Queue):
            await self._queue(c)
        elif isinstance(frame, frames.Ping):
            c.push(frames.encode(frames.Pong()))
        elif isinstance(frame, frames.Hello):
            raise TicketError("bad_request", "already said hello")

    @staticmethod
    def _require_member(c: Connection, ticket: str) -> None:
        if ticket not in c.tickets:
            raise TicketError("bad_request", "join the ticket first")

    async def _send(self, c: Connection, frame: frames.Send) -> None:
        assert c.identity is not None and c.public_user is not None
        c.expect_ack(frame.ticket, frame.client_id)
        started = time.perf_counter()
        try:
            result = await self.tickets.post(c.identity, frame.ticket, frame.client_id, frame.body, frame.internal)
        except BaseException:
            c.forget_ack(frame.ticket, frame.client_id)
            raise
        metrics.COMMIT_LATENCY.observe(time.perf_counter() - started)
        (metrics.COMMITTED_DUPLICATE if result.duplicate else metrics.COMMITTED_NEW).inc()
        c.finish_ack(result.message)
        if frame.ticket in c.typing_tickets():
            c.note_typing(frame.ticket, False)
            await self.bus.publish(frame.ticket, TypingEvent(frame.ticket, c.public_user, False, frame.internal))

    async def _join(self, c: Connection, frame: frames.Join) -> None:
        assert c.identity is not None and c.public_user is not None
        ticket = frame.ticket
        await self.tickets.check_view(c.identity, ticket)
        if ticket in c.tickets:
            c.tickets.discard(ticket)  # a rejoin replays from `since` like a fresh join
        c.start_joining(ticket)
        try:
            await self.hub.add_member(c, ticket)
            last_seq, messages, _more, reads = await self.tickets.snapshot(c.identity, ticket, frame.since)
            presence = await self.bus.presence_join(ticket, c.id, c.public_user)
        except BaseException:
            c.abort_joining(ticket)
            if ticket not in c.tickets:
                await self.hub.remove_member(c, ticket)
            raise
        c.tickets.add(ticket)
        c.finish_joining(ticket, frames.Joined(ticket, last_seq, messages, presence, reads))

    async def _queue(self, c: Connection) -> None:
        assert c.identity is not None
        if not c.identity.is_staff:
            raise TicketError("forbidden", "the queue is for agents")
        self.hub.queue_watchers.add(c)
        await self.hub.watch_agents()
        assert c.public_user is not None
        await watch_queue(self.bus, c.id, c.public_user)  # online for auto-assignment, seen by every node
        tickets = await self.store.list_queue(c.identity.id, 0, QUEUE_SNAPSHOT, policy.ACTIVE_STATUSES)
        c.push(frames.encode(frames.QueueFrame(tickets)))
