"""Local fan-out on one node: which connections are in which ticket, and delivering bus events to them.

Each event is encoded once per node (one variant for agents, one for customers), never once per recipient.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from realtime import frames
from support.core import policy
from support.core.bus import (
    AgentStatusEvent,
    Bus,
    BusEvent,
    MessageEvent,
    PresenceEvent,
    ReadEvent,
    TicketEvent,
    TypingEvent,
)
from support.core.model import Message, User
from support.workflow.assignment import AGENTS_ROOM

if TYPE_CHECKING:
    from support.tickets.service import TicketService


class Member(Protocol):
    """What the hub needs of a local connection (realtime/connection.py `Connection` is one): who it is, and
    three ways to hand it bytes encoded once for every recipient. None of them waits; a slow client is cut off."""

    id: str
    user_id: str
    role: str
    public_user: User | None

    def push(self, frame: frames.Outgoing, then: frames.Outgoing | None = None) -> None: ...

    def deliver_message(self, message: Message, frame: frames.Outgoing) -> None: ...

    def deliver_presence(self, ticket: str, frame: frames.Outgoing) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...

    def close_after_frame(self, code: int, reason: str) -> None: ...


class Hub:
    def __init__(self, bus: Bus, tickets: "TicketService", typing_ttl_s: float) -> None:
        self.bus = bus
        self.tickets = tickets
        self.typing_ttl_s = typing_ttl_s
        self.members: dict[str, set[Member]] = {}
        self.queue_watchers: set[Member] = set()
        self.connections: set[Member] = set()
        self.customers: dict[str, set[Member]] = {}  # a customer's connections: told of their own tickets
        self._typing_expiry: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._subscribe_locks: dict[str, asyncio.Lock] = {}
        self.status_frame: frames.Outgoing | None = None  # the latest `status` frame: every new connection gets it
        self._watching_agents = False

    async def add_member(self, connection: Member, ticket: str) -> None:
        lock = self._subscribe_locks.setdefault(ticket, asyncio.Lock())
        async with lock:
            members = self.members.setdefault(ticket, set())
            members.add(connection)
            if len(members) == 1:
                await self.bus.subscribe(ticket)

    async def remove_member(self, connection: Member, ticket: str) -> None:
        lock = self._subscribe_locks.setdefault(ticket, asyncio.Lock())
        async with lock:
            members = self.members.get(ticket)
            if not members or connection not in members:
                return
            members.discard(connection)
            if not members:
                del self.members[ticket]
                self._subscribe_locks.pop(ticket, None)
                if ticket != AGENTS_ROOM or not self._watching_agents:  # the team's status stays subscribed
                    await self.bus.unsubscribe(ticket)

    async def watch_agents(self) -> None:
        """Subscribe this node to the agents' room once (its first queue watcher): every node's status and
        online changes then reach this node's queue watchers."""
        if not self._watching_agents:
            self._watching_agents = True
            await self.bus.subscribe(AGENTS_ROOM)

    def deliver(self, ticket: str | None, event: BusEvent) -> None:
        """The bus's sink: called once per event per node."""
        if isinstance(event, TicketEvent):
            self.tickets.observe(event.ticket)
            # Every node hears every ticket's queue updates; most have nobody here to show one to: encode only then.
            recipients = (*self.queue_watchers, *self.customers.get(event.ticket.customer.id, ()))
            if recipients:
                frame = frames.encode(frames.TicketFrame(event.ticket))
                for connection in recipients:
                    connection.push(frame)
            return
        if ticket == AGENTS_ROOM and isinstance(event, (AgentStatusEvent, PresenceEvent)):
            self._deliver_agent(event)
            return
        members = self.members.get(ticket or "")
        if isinstance(event, TypingEvent):
            self._expire_typing_later(event)
        if not members:
            return
        if isinstance(event, MessageEvent):
            self._deliver_message(members, event.message)
        elif isinstance(event, TypingEvent):
            frame = frames.encode(frames.TypingFrame(event.ticket, event.user, event.active))
            for c in tuple(members):
                if c.user_id != event.user.id and policy.can_see_message(c.role, event.internal):
                    c.push(frame)
        elif isinstance(event, ReadEvent):
            frame = frames.encode(frames.ReadFrame(event.ticket, event.user, event.seq))
            for c in tuple(members):
                if c.id != event.origin:
                    c.push(frame)
        elif isinstance(event, PresenceEvent):
            frame = frames.encode(frames.PresenceFrame(event.ticket, event.user, event.online))
            for c in tuple(members):
                if c.user_id != event.user.id:
                    c.deliver_presence(event.ticket, frame)

    def _deliver_agent(self, event: AgentStatusEvent | PresenceEvent) -> None:
        if isinstance(event, AgentStatusEvent):
            # Setting a status is only possible while signed in; online is confirmed by presence frames.
            agent = frames.AgentFrame(event.agent, True, event.away, event.capacity)
        else:
            agent = frames.AgentFrame(event.user, event.online)
        if agent.agent.role not in ("agent", "admin"):
            return
        frame = frames.encode(agent)
        for connection in tuple(self.queue_watchers):
            connection.push(frame)

    def _deliver_message(self, members: set[Member], message: Message) -> None:
        frame = frames.message_frame(message)
        for c in tuple(members):
            if policy.can_see_message(c.role, message.internal):
                c.deliver_message(message, frame)

    def _expire_typing_later(self, event: TypingEvent) -> None:
        # Typing ends by itself when not renewed, even if the typist's node died before saying so.
        key = (event.ticket, event.user.id)
        handle = self._typing_expiry.pop(key, None)
        if handle:
            handle.cancel()
        if event.active:
            stop = TypingEvent(event.ticket, event.user, False, event.internal)
            self._typing_expiry[key] = asyncio.get_running_loop().call_later(
                self.typing_ttl_s, self._typing_expired, key, stop
            )

    def _typing_expired(self, key: tuple[str, str], stop: TypingEvent) -> None:
        self._typing_expiry.pop(key, None)
        self.deliver(stop.ticket, stop)

    def broadcast_status(self, frame: frames.Outgoing) -> None:
        """The status page changed: every connection of this node gets the frame, encoded once."""
        self.status_frame = frame
        for connection in list(self.connections):
            connection.push(frame)

    def add_connection(self, connection: Member) -> None:
        if self.status_frame is not None:
            connection.push(self.status_frame)
        self.connections.add(connection)
        if connection.role == "customer":
            self.customers.setdefault(connection.user_id, set()).add(connection)

    def remove_connection(self, connection: Member) -> None:
        self.connections.discard(connection)
        self.queue_watchers.discard(connection)
        own = self.customers.get(connection.user_id)
        if own is not None:
            own.discard(connection)
            if not own:
                del self.customers[connection.user_id]

    def memberships(self) -> list[tuple[str, str, User]]:
        return [(t, c.id, c.public_user) for t, conns in self.members.items() for c in conns if c.public_user]
