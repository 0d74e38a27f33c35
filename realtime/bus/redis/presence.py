"""Presence on Redis: memberships per connection with expiry, shared by every gateway node.

Each membership is a hash field per connection plus an index of expiry times; the join and leave scripts publish the
online / offline event themselves, so every node sees them in order with the ticket's other events. An expired
connection is taken by exactly one node's sweep, which announces it offline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable


from realtime.bus.redis import layout as layout
from realtime.bus.redis import scripts as scripts
from realtime.bus.redis.failures import REDIS_FAILURES, reply_errors
from realtime.bus.redis.wire import ReplyError
from support.core.bus import PresenceEvent
from support.core.errors import Unavailable
from support.core.model import User

log = logging.getLogger("helpline.bus.redis")
STANDALONE = scripts.Scripts(cluster=False)
# Renewals per pipelined round trip. Packing a pipeline and parsing its replies hold the event loop, and Redis runs
# the scripts back to back: 500 at once (a heartbeat of 900 memberships) held a loaded node's loop ~40-90 ms and
# Redis' other clients' commits behind it; chunks of 100 leave room for deliveries between round trips.
RENEW_CHUNK = 100


class RedisPresence:
    """The Presence port on Redis; RedisBus is one (it also tells which tickets this node is subscribed to)."""

    def __init__(
        self, redis: Any, pipe: Any, keys: layout.Keys, presence_ttl_s: float, lua: scripts.Scripts | None = None
    ) -> None:
        self._redis = redis
        # A join's calls go through the bus's pipelined connection (CommandPipe / ClusterPipe): the joins of one
        # loop tick leave in one write, each costing a queued command instead of a pooled client's round trip.
        self._commands = pipe
        self._keys = keys
        self._scripts = lua or STANDALONE  # a cluster's publish with SPUBLISH
        self._presence_ttl_ms = int(presence_ttl_s * 1000)
        self._presence_shown: dict[str, dict[str, User]] = {}  # per subscribed ticket: who its clients see online

    async def _joining(self, script: scripts.Script, keys: list[str], args: list[object]) -> Any:
        """A script on a join's path, pipelined; an error reply is Unavailable."""
        async with reply_errors("presence"):
            return await script.on(self._commands, keys, args)

    def _is_subscribed(self, ticket: str) -> bool:
        """Whether this node delivers the ticket's events (then what its clients were shown is kept)."""
        return False

    def _note_presence(self, ticket: str, user: User, online: bool) -> None:
        shown = self._presence_shown.setdefault(ticket, {})
        if online:
            shown[user.id] = user
        else:
            shown.pop(user.id, None)

    async def presence_join(self, ticket: str, connection_id: str, user: User) -> list[User]:
        # The membership and the members read in one script: a join's presence is one round trip, not two.
        raw = await self._joining(
            self._scripts.presence_join_members,
            self._presence_keys(ticket),
            self._presence_args(ticket, connection_id, user),
        )
        return self._members_shown(ticket, raw)

    def _presence_keys(self, ticket: str) -> list[str]:
        return [*self._keys.presence_keys(ticket), self._keys.presence_index_of(ticket)]

    def _presence_args(self, ticket: str, connection_id: str, user: User) -> list[object]:
        """The join script's arguments; it publishes the online event itself (in order with other nodes')."""
        online = layout.encode_event(PresenceEvent(ticket, user, online=True))
        return [
            connection_id,
            layout.encode_user(user),
            user.id,
            self._presence_ttl_ms,
            self._keys.channel(ticket),
            online,
            f"{ticket}\n{connection_id}",
        ]

    def _offline(self, ticket: str, user: User) -> list[object]:
        return [self._keys.channel(ticket), layout.encode_event(PresenceEvent(ticket, user, online=False))]

    async def presence_leave(self, ticket: str, connection_id: str, user: User) -> None:
        # Pipelined, as the join: a node's clients leaving at once (a storm's other side) share writes, not the pool.
        try:
            await self._scripts.presence_leave.on(
                self._commands,
                self._presence_keys(ticket),
                [connection_id, "left", *self._offline(ticket, user), f"{ticket}\n{connection_id}"],
            )
        except (*REDIS_FAILURES, Unavailable, ReplyError) as exc:
            log.warning("presence leave of %s in %s not recorded (%r); it expires by itself", user.id, ticket, exc)

    async def presence_members(self, ticket: str) -> list[User]:
        raw = await self._joining(self._scripts.presence_members, self._keys.presence_keys(ticket), [])
        return self._members_shown(ticket, raw)

    def _members_shown(self, ticket: str, raw: list[bytes | None]) -> list[User]:
        """The members script's reply as users, each once; noted as shown when this node delivers the ticket."""
        users = list({u.id: u for u in (layout.decode_user(r) for r in raw if r)}.values())
        if self._is_subscribed(ticket):
            # What this node's clients were just shown (a join's snapshot): the base of a later catch-up.
            for user in users:
                self._note_presence(ticket, user, True)
        return users

    async def presence_refresh(self, memberships: list[tuple[str, str, User]]) -> None:
        """Renew every local connection's presence; one that expired meanwhile (a slow node) comes back online."""
        try:
            for start in range(0, len(memberships), RENEW_CHUNK):
                await self._refresh_chunk(memberships[start : start + RENEW_CHUNK])
        except (*REDIS_FAILURES, Unavailable, ReplyError) as exc:
            log.warning("presence refresh failed (%r); members expire unless the next one succeeds", exc)

    async def _refresh_chunk(self, chunk: list[tuple[str, str, User]]) -> None:
        # One pipelined round trip per chunk (per primary on a cluster), on the bus's pipelined connection: redis-py's
        # cluster pipeline found each command's slot and node and packed it in Python, a fixed cost per membership.
        script = self._scripts.presence_join
        await _all(
            [
                script.on(self._commands, self._presence_keys(ticket), self._presence_args(ticket, conn, user))
                for ticket, conn, user in chunk
            ]
        )

    async def sweep_presence(self) -> int:
        """Take expired connections (each goes to exactly one node) and tell everyone who went offline."""
        lease_ms = max(1000, self._presence_ttl_ms)
        offline = 0
        # One index per slot group on a cluster (128), every sweep of every node: taken in one pipelined round trip
        # per primary on the bus's own connections, not through redis-py's cluster pipeline (a fixed cost per node).
        script = self._scripts.presence_take_expired
        batches = await asyncio.gather(
            *(script.on(self._commands, [index], [200, lease_ms]) for index in self._keys.presence_indexes),
            return_exceptions=True,
        )
        failure: BaseException | None = None
        for due in batches:
            if isinstance(due, BaseException):
                failure = failure or due
                continue  # the others' taken connections are settled all the same: they are leased to this node
            offline += await self._settle_expired(due)
        if failure is not None:
            raise failure
        return offline

    async def _settle_expired(self, due: list[bytes]) -> int:
        offline = 0
        for member in due:
            ticket, _, conn = member.decode().partition("\n")
            keys = self._presence_keys(ticket)
            raw_user = await self._redis.hget(keys[1], conn)  # a connection's user never changes
            announce = self._offline(ticket, layout.decode_user(raw_user)) if raw_user else ["", ""]
            if await self._scripts.presence_leave(self._redis, keys, [conn, "expired", *announce, member]):
                offline += 1
        return offline


async def _all(calls: list[Awaitable[Any]]) -> None:
    """Every call run (they share the pipelined writes); the first failure raised once all are done."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
