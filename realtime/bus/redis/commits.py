"""The commit point on Redis: one Lua script takes a ticket's next seq, stores and publishes the message.

It reads the database only to seed a ticket's counter and client ids (a first commit, or after a Redis data loss), and
seeds ahead of a ticket's first commit when the ticket is joined. No fan-out here (bus.py).
"""

from __future__ import annotations

import logging
from typing import Any

from realtime.bus.redis import layout as layout
from realtime.bus.redis import scripts as scripts
from realtime.bus.redis.cluster import ClusterPipe
from realtime.bus.redis.wire import CommandPipe, ReplyError
from realtime.bus.seeds_ahead import SeedsAhead
from support.core.bus import CommitResult, Draft
from support.core.errors import Unavailable
from support.core.model import Message
from support.core.stores import MessageStore

log = logging.getLogger("helpline.bus.redis")

SEED_CLIENT_IDS = 1000  # latest persisted (author, client_id) keys put back after a Redis data loss
SEED_RECENT = 100  # persisted messages put into a missing recent-history stream (a join shows the latest 50)
IDLE_TTL_MS = 7 * 24 * 3600 * 1000  # a ticket's counter, client ids and recent history vanish after a quiet week


class Commits:
    """Commits of one gateway node, through its pipelined connection (published by the script, or behind WAIT)."""

    def __init__(
        self,
        commands: CommandPipe | ClusterPipe,
        replicated: CommandPipe | ClusterPipe,
        keys: layout.Keys,
        lua: scripts.Scripts,
        store: MessageStore,
        recent_max: int,
        min_replicas: int,
        wait_timeout_ms: int,
    ) -> None:
        self._commands = commands
        # With min_replicas, the commit script, its WAIT and the publish behind it go on a pipe of their own (WAIT
        # holds its connection until the replicas answer).
        self._replicated = replicated
        self._keys = keys
        self._scripts = lua
        self._store = store
        self._recent_max = recent_max
        self._min_replicas = min_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._seeding = SeedsAhead()  # tickets whose counter is being seeded ahead of a commit

    async def close(self) -> None:
        await self._seeding.close()

    async def commit(self, draft: Draft) -> CommitResult:
        payload = layout.encode_draft(draft)  # encoded once: the same bytes go to both streams and the publish
        keys = self._keys.commit_keys(draft.ticket)
        idempotency_key = layout.author_client_key(draft.author.id, draft.client_id)
        head: list[object] = [idempotency_key, payload, draft.ticket, self._recent_max, IDLE_TTL_MS]
        channel = self._keys.channel(draft.ticket)
        # Replicated: published by publish_committed.lua (its KEYS, ARGV) behind the write's WAIT; else by the commit
        # script itself, and nothing of this is built per message.
        publish = (
            (self._keys.publish_keys(draft.ticket), [idempotency_key, channel, IDLE_TTL_MS])
            if self._min_replicas
            else None
        )
        own_channel = "" if self._min_replicas else channel
        try:
            # On the pipelined commit connection: the commits of one loop tick leave in one write.
            result = await self._run_commit(keys, [*head, "", own_channel], publish)
            if result[0] == -1:
                stored = await self._stored(draft)
                if stored is not None:
                    return CommitResult(stored, duplicate=True)
                floor, pairs = await self._seed_now(draft.ticket)
                result = await self._run_commit(keys, [*head, floor, own_channel, *pairs], publish)
            seq = result[1]
        except ReplyError as exc:
            raise Unavailable(f"commit failed: Redis answered {exc}") from None
        if result[0] == 1:
            return CommitResult(draft.committed(seq), duplicate=False)
        if len(result) > 2:
            return CommitResult(layout.decode_message(seq, result[2]), duplicate=True)
        stored = await self._stored(draft)
        return CommitResult(stored or draft.committed(seq), duplicate=True)

    async def _run_commit(
        self, keys: list[str], args: list[object], publish: tuple[list[str], list[object]] | None
    ) -> Any:
        """The commit script. With min_replicas, its reply once that many replicas have it, and the message
        published then, in the same write (a retry of a commit whose replicas fell short publishes it too:
        subscribers drop what they had); else Unavailable: the commit may be in Redis, and the client's retry with
        its client_id finds it."""
        if publish is None:
            return await self._scripts.commit.on(self._commands, keys, args)
        result, _ = await self._scripts.commit.on_replicated(
            self._replicated,
            self._min_replicas,
            self._wait_timeout_ms,
            keys,
            args,
            self._scripts.publish_committed,
            *publish,
        )
        return result

    async def _stored(self, draft: Draft) -> Message | None:
        """This author's earlier message with this client_id, from the database (never another author's)."""
        try:
            return await self._store.message_by_client_id(draft.ticket, draft.author.id, draft.client_id)
        except Exception as exc:
            raise Unavailable(f"the database is unreachable ({exc.__class__.__name__})") from None

    async def _seed_now(self, ticket: str) -> tuple[int, list[object]]:
        """Seed the ticket from the database (seed.lua: counter, client ids, and a missing recent history), and
        return the counter's floor and the (author+client_id key, seq) pairs for a commit to seed with as well.

        A ticket's first commit may come before any subscribe (a reply by mail, the HTTP API): seeding through the
        commit script alone would start its recent history at that commit, after the opening message, and every
        join of the ticket would read the database. A seed script that fails leaves the seeding to the commit."""
        latest = await self._latest(ticket)
        floor, pairs = seed_of(latest)
        recent = recent_of(latest, floor, SEED_RECENT)
        keys = self._keys.seed_keys(ticket)
        try:
            await self._scripts.seed.on(self._commands, keys, [IDLE_TTL_MS, floor, len(recent) // 2, *recent, *pairs])
        except ReplyError as exc:
            log.warning("seeding %s failed (%r); its commit seeds it", ticket, exc)
        return floor, pairs

    async def _latest(self, ticket: str) -> list[Message]:
        try:
            return await self._store.latest_messages(ticket, SEED_CLIENT_IDS, include_internal=True)
        except Exception as exc:
            raise Unavailable(f"the database is unreachable ({exc.__class__.__name__})") from None

    def seed_ahead(self, ticket: str) -> None:
        """Seed the ticket's counter and client ids now, off the message path, if they are missing.

        A ticket's first commit on Redis otherwise finds no counter and reads the database twice before it can take
        a seq (the draft's client id, then the latest messages); right after a join burst that is every ticket at
        once, and the first messages queued behind those reads for over a second. Joining a ticket is the moment
        to do it: its members are about to write. commit() still seeds whenever the counter is missing."""
        if ticket in self._seeding:
            return
        self._seeding.start(ticket, self._seed_if_missing(ticket))

    async def seeded(self, ticket: str) -> None:
        """Until the seed started for this ticket (if any) has finished, for at most seeds_ahead.SEED_WAIT_S.

        A join right after its ticket's subscribe reads the recent history the seed is filling: waiting for it
        spares the join a database read of its own, which the seed is doing anyway. A failed or slow seed only
        means the join reads the database, as it did before."""
        await self._seeding.wait(ticket)

    async def _seed_if_missing(self, ticket: str) -> None:
        keys = self._keys.seed_keys(ticket)
        if await self._scripts.seed.on(self._commands, keys, [IDLE_TTL_MS, ""]) != -1:
            return
        await self._seed_now(ticket)


def seed_of(latest: list[Message]) -> tuple[int, list[object]]:
    """The counter's floor (the highest persisted seq: `latest` includes it) and the (author+client_id key, seq)
    pairs of the latest persisted messages."""
    pairs: list[object] = []
    for message in latest:
        pairs += [layout.author_client_key(message.author.id, message.client_id), message.seq]
    return (latest[-1].seq if latest else 0), pairs


def recent_of(latest: list[Message], floor: int, count: int) -> list[object]:
    """The last `count` of `latest` as flat (seq, payload) pairs for the recent-history stream, encoded as a commit
    encodes them; none unless they run without a gap up to `floor` (a catch-up trusts the stream to be gapless)."""
    tail = latest[-count:]
    if not tail or tail[-1].seq != floor or any(b.seq != a.seq + 1 for a, b in zip(tail, tail[1:])):
        return []
    flat: list[object] = []
    for m in tail:
        flat += [m.seq, layout.encode_draft(Draft(m.ticket, m.client_id, m.author, m.body, m.internal, m.created_at))]
    return flat
