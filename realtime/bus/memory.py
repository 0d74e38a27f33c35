"""The in-memory bus of the embedded default: one process, seq counters in memory, durable through SQLite.

A commit is acknowledged only once the GroupWriter has the message in the database. Idempotency is per
(ticket, author, client_id): another author's client_id is another message.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

from support.core.stores import MessageStore
from realtime.bus.group_writer import GROUP_WINDOW_S, GroupWriter
from realtime.bus.seeds_ahead import SeedsAhead
from support.core.bus import BusEvent, CommitResult, Draft, EventSink, MessageEvent, PresenceEvent, TicketEvent
from support.core.model import Message, TicketView, User


RECENT_PER_TICKET = 100
KNOWN_CLIENT_IDS = 100_000
CURSOR_COPIES = 10_000  # tickets whose read cursors are kept for joins; older ones are read from the store again
STORED_CLIENT_IDS = 1_000  # a retry of a message older than a ticket's last thousand is not expected

IdempotencyKey = tuple[str, str, str]  # ticket, author id, client_id


class MemoryBus:
    def __init__(self, store: MessageStore, group_window_s: float = GROUP_WINDOW_S) -> None:
        self._store = store
        self._sink: EventSink = lambda _ticket, _event: None
        self._writer = GroupWriter(store, self._published, window_s=group_window_s)
        self._seq: dict[str, int] = {}
        self._seed_locks: dict[str, asyncio.Lock] = {}
        self._seeding = SeedsAhead()  # seeds started at subscribe, ahead of a first commit
        self._stored_client_ids: dict[str, set[tuple[str, str]]] = {}  # ticket -> (author id, client_id) in the db
        self._forgetful: set[str] = set()  # tickets some of whose ids fell out of _by_client_id
        # A commit under way is its future; a finished one, its message.
        self._by_client_id: OrderedDict[IdempotencyKey, asyncio.Future[CommitResult] | Message] = OrderedDict()
        self._recent: dict[str, deque[Message]] = {}
        self._subscribed: set[str] = set()
        self._presence: dict[str, dict[str, User]] = {}
        # The read cursors joins are given, copied from the store (the truth) once per ticket and moved by reads.
        self._cursors: OrderedDict[str, dict[str, int]] = OrderedDict()  # the last CURSOR_COPIES tickets
        self._cursors_filled: set[str] = set()

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._writer.start()

    async def close(self) -> None:
        await self._seeding.close()
        await self._writer.close()

    async def ready(self) -> bool:
        return True

    async def commit(self, draft: Draft) -> CommitResult:
        key = (draft.ticket, draft.author.id, draft.client_id)
        known = self._by_client_id.get(key)
        if isinstance(known, Message):
            return CommitResult(known, duplicate=True)
        if known is not None:
            first = await asyncio.shield(known)
            return CommitResult(first.message, duplicate=True)
        future: asyncio.Future[CommitResult] = asyncio.get_running_loop().create_future()
        self._by_client_id[key] = future
        while len(self._by_client_id) > KNOWN_CLIENT_IDS:
            (forgotten_ticket, _, _), _ = self._by_client_id.popitem(last=False)
            self._forgetful.add(forgotten_ticket)  # its old ids are now only in the database
        try:
            result = await self._commit_new(draft)
        except BaseException as exc:
            del self._by_client_id[key]
            future.set_exception(exc)
            future.exception()  # retrieved: a waiting duplicate sees it, nobody else must
            raise
        future.set_result(result)
        if self._by_client_id.get(key) is future:
            # Kept as its message once committed: a future is tracked by the garbage collector, a message is not,
            # and this cache holds the last KNOWN_CLIENT_IDS commits (a full collection walks every tracked one).
            self._by_client_id[key] = result.message
        return result

    async def _commit_new(self, draft: Draft) -> CommitResult:
        if draft.ticket not in self._seq:
            await self._seed(draft.ticket)
        # Client ids committed in this process are known above; only those written before it started need a look
        # in the database, and only when the id is one of them.
        stored_ids = self._stored_client_ids.get(draft.ticket, ())
        if draft.ticket in self._forgetful or (draft.author.id, draft.client_id) in stored_ids:
            stored = await self._store.message_by_client_id(draft.ticket, draft.author.id, draft.client_id)
            if stored is not None:
                return CommitResult(stored, duplicate=True)
        # No await between taking the seq and queueing the write: the writer sees seqs in order.
        seq = self._seq[draft.ticket] = self._seq[draft.ticket] + 1
        message = draft.committed(seq)
        await self._writer.write(message)
        return CommitResult(message, duplicate=False)

    async def _seed(self, ticket: str) -> None:
        """Take up a ticket's sequence where the database left it, and learn its earlier (author, client_id)s."""
        lock = self._seed_locks.setdefault(ticket, asyncio.Lock())
        async with lock:
            if ticket in self._seq:
                return
            earlier = await self._store.latest_messages(ticket, STORED_CLIENT_IDS, include_internal=True)
            self._stored_client_ids[ticket] = {(m.author.id, m.client_id) for m in earlier}
            last = self._seq[ticket] = await self._store.max_seq(ticket)
            tail = earlier[-RECENT_PER_TICKET:]
            # A ticket's first message is written by the store alone: without this, every join of a short ticket
            # read the store. Only a gapless tail up to the last seq, as commits would have left it.
            if (
                ticket not in self._recent
                and tail
                and tail[-1].seq == last
                and tail[-1].seq - tail[0].seq == len(tail) - 1
            ):
                self._recent[ticket] = deque(tail, maxlen=RECENT_PER_TICKET)
        self._seed_locks.pop(ticket, None)

    def _published(self, messages: list[Message]) -> None:
        for message in messages:
            recent = self._recent.setdefault(message.ticket, deque(maxlen=RECENT_PER_TICKET))
            recent.append(message)
            if message.ticket in self._subscribed:
                self._sink(message.ticket, MessageEvent(message))

    async def recent(self, ticket: str, after_seq: int) -> list[Message] | None:
        recent = self._recent.get(ticket)
        if not recent or recent[0].seq > after_seq + 1:
            return None
        return [m for m in recent if m.seq > after_seq]

    async def catch_up(self, ticket: str, after_seq: int) -> tuple[list[Message] | None, dict[str, int] | None]:
        await self._seeding.wait(ticket)  # the ticket's first join: the seed under way fills the history it reads
        copied = dict(self._cursors[ticket]) if ticket in self._cursors_filled else None  # each join its own
        recent = await self.recent(ticket, after_seq)
        if recent is None and self._seq.get(ticket, after_seq + 1) <= after_seq:
            recent = []  # no commit since: nothing to read from the store either
        return recent, copied

    async def keep_read_cursors(self, ticket: str, cursors: dict[str, int]) -> None:
        self._move_cursors(ticket, cursors)
        self._cursors_filled.add(ticket)

    async def note_read(self, ticket: str, user_id: str, seq: int) -> None:
        # A copy not filled yet stays unfilled: a join reading the store meanwhile fills it, the highest seq winning.
        self._move_cursors(ticket, {user_id: seq})

    def _move_cursors(self, ticket: str, cursors: dict[str, int]) -> None:
        copy = self._cursors.setdefault(ticket, {})
        self._cursors.move_to_end(ticket)
        if len(self._cursors) > CURSOR_COPIES:
            oldest, _ = self._cursors.popitem(last=False)
            self._cursors_filled.discard(oldest)
        for user_id, seq in cursors.items():
            copy[user_id] = max(seq, copy.get(user_id, seq))

    async def forget_recent(self, ticket: str) -> None:
        """Drop a ticket's recent history and cursor copy (after an erasure rewrote them): recovery reads the store."""
        self._recent.pop(ticket, None)
        self._cursors.pop(ticket, None)
        self._cursors_filled.discard(ticket)

    async def subscribe(self, ticket: str) -> None:
        self._subscribed.add(ticket)
        if ticket not in self._seq and ticket not in self._seed_locks:
            # Seeded now, off the message path: the ticket's first commit would otherwise read the database
            # twice before it can take a seq, and right after a join burst every ticket's first commit does.
            self._seeding.start(ticket, self._seed(ticket))

    async def unsubscribe(self, ticket: str) -> None:
        self._subscribed.discard(ticket)

    async def publish(self, ticket: str, event: BusEvent) -> None:
        if ticket in self._subscribed:
            self._sink(ticket, event)

    async def publish_ticket(self, view: TicketView) -> None:
        self._sink(None, TicketEvent(view))

    async def publish_tickets(self, views: list[TicketView]) -> None:
        for view in views:
            self._sink(None, TicketEvent(view))

    async def presence_join(self, ticket: str, connection_id: str, user: User) -> list[User]:
        members = self._presence.setdefault(ticket, {})
        was_online = any(u.id == user.id for u in members.values())
        members[connection_id] = user
        if not was_online:
            await self.publish(ticket, PresenceEvent(ticket, user, online=True))
        return await self.presence_members(ticket)

    async def presence_leave(self, ticket: str, connection_id: str, user: User) -> None:
        members = self._presence.get(ticket, {})
        if members.pop(connection_id, None) is None:
            return
        if not members:
            self._presence.pop(ticket, None)
        if not any(u.id == user.id for u in members.values()):
            await self.publish(ticket, PresenceEvent(ticket, user, online=False))

    async def presence_members(self, ticket: str) -> list[User]:
        return list({u.id: u for u in self._presence.get(ticket, {}).values()}.values())

    async def presence_refresh(self, memberships: list[tuple[str, str, User]]) -> None:
        return None  # one process: a connection's presence ends exactly when it leaves
