"""The Lua scripts of the Redis bus, each one atomic step, loaded once and called by SHA (reloaded on NOSCRIPT).

The sources are the .lua files beside this module (package data), each with its KEYS, ARGV and reply in a comment.
Times come from the Redis server's clock (TIME), so gateway nodes with skewed clocks agree on presence expiry.
On a Redis Cluster the scripts publish with SPUBLISH (sharded pub/sub: the channel shares the slot of the keys the
script touches, so the message crosses only the shard that owns the ticket): `Scripts(cluster=True)`.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any, Sequence

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from realtime.bus.redis.cluster import ClusterPipe
from realtime.bus.redis.wire import CommandPipe, ReplyError


def lua(*names: str) -> str:
    """The source of a script: these .lua files of this package, joined (shared preludes first)."""
    folder = resources.files(__package__)
    return "".join(folder.joinpath(f"{name}.lua").read_text(encoding="utf-8") for name in names)


COMMIT = lua("commit")
SEED = lua("seed")
CATCH_UP = lua("catch_up")
READ_CURSOR_FILL = lua("read_cursor_fill")
PRESENCE_JOIN = lua("now", "online_elsewhere", "presence_join")
PRESENCE_LEAVE = lua("now", "online_elsewhere", "presence_leave")
PRESENCE_MEMBERS = lua("now", "presence_members")
# A join's presence, one round trip (a reconnect storm is thousands of joins at once): the join's steps as a function
# (its early return must not end the script), then the members read, in the same atomic step and at the same `now`.
PRESENCE_JOIN_MEMBERS = (
    lua("now", "online_elsewhere")
    + "local function join()\n"
    + lua("presence_join")
    + "\nend\njoin()\n"
    + lua("presence_members")
)
PRESENCE_TAKE_EXPIRED = lua("now", "presence_take_expired")
PUBLISH_COMMITTED = lua("publish_committed")
TOKEN_BUCKET = lua("now", "token_bucket")


class Script:
    """One Lua script: EVALSHA, and on NOSCRIPT (a restarted or failed-over Redis) load it again and retry."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # what Redis names it: known without a SCRIPT LOAD

    async def on(self, pipe: CommandPipe | ClusterPipe, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Through the pipelined connection; on NOSCRIPT, EVAL sends the source (and caches it in Redis)."""
        try:
            return await pipe.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await pipe.call("EVAL", self.source, len(keys), *keys, *args)

    async def on_replicated(
        self,
        pipe: CommandPipe | ClusterPipe,
        replicas: int,
        timeout_ms: int,
        keys: Sequence[Any],
        args: Sequence[Any],
        then: "Script",
        then_keys: Sequence[Any],
        then_args: Sequence[Any],
    ) -> tuple[Any, Any]:
        """As `on`, with `then` (another script) run behind the write's WAIT, only once `replicas` replicas have
        it, in the same write (CommandPipe.call_replicated): both scripts' replies."""
        follow = ("EVALSHA", then.sha, len(then_keys), *then_keys, *then_args)
        try:
            reply, after = await pipe.call_replicated(
                replicas, timeout_ms, ("EVALSHA", self.sha, len(keys), *keys, *args), follow
            )
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            follow = ("EVAL", then.source, len(then_keys), *then_keys, *then_args)
            reply, after = await pipe.call_replicated(
                replicas, timeout_ms, ("EVAL", self.source, len(keys), *keys, *args), follow
            )
        if type(after) is ReplyError and str(after).startswith("NOSCRIPT"):
            # This script ran and its WAIT answered (`then` came after it): only `then` again, now that it is safe.
            after = await pipe.call("EVAL", then.source, len(then_keys), *then_keys, *then_args)
        elif type(after) is ReplyError:
            raise after
        return reply, after

    async def __call__(self, redis: Redis | RedisCluster, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


class Scripts:
    """The bus's scripts, as one Redis (or Sentinel) runs them, or a cluster (publishing with SPUBLISH)."""

    def __init__(self, cluster: bool) -> None:
        def script(source: str) -> Script:
            return Script(source.replace("'PUBLISH'", "'SPUBLISH'") if cluster else source)

        self.commit = script(COMMIT)
        self.publish_committed = script(PUBLISH_COMMITTED)  # a replicated commit's, behind its WAIT
        self.seed = script(SEED)
        self.catch_up = script(CATCH_UP)
        self.read_cursor_fill = script(READ_CURSOR_FILL)
        self.presence_join = script(PRESENCE_JOIN)
        self.presence_leave = script(PRESENCE_LEAVE)
        self.presence_members = script(PRESENCE_MEMBERS)
        self.presence_join_members = script(PRESENCE_JOIN_MEMBERS)
        self.presence_take_expired = script(PRESENCE_TAKE_EXPIRED)


COMMIT_SCRIPT = Script(COMMIT)
SEED_SCRIPT = Script(SEED)
PRESENCE_JOIN_SCRIPT = Script(PRESENCE_JOIN)
PRESENCE_LEAVE_SCRIPT = Script(PRESENCE_LEAVE)
PRESENCE_MEMBERS_SCRIPT = Script(PRESENCE_MEMBERS)
PRESENCE_TAKE_EXPIRED_SCRIPT = Script(PRESENCE_TAKE_EXPIRED)
TOKEN_BUCKET_SCRIPT = Script(TOKEN_BUCKET)
