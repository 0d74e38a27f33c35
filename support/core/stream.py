"""The persistence stream's contract: the durable stream of committed messages that the Redis bus appends to (its
commit script) and the persistence worker drains. Its key, its consumer group, its entries, and how far the worker
is behind (messages and seconds), read by the gateways' bus (their /metrics) and by the worker (its /metrics, log).

Both sides import this one module, so neither imports the other (realtime/ and persistence/ never meet). It opens no
connection: `persist_lag` reads through the client its caller passes.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, cast

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from support.core import slot_groups
from support.core.bus import Draft
from support.core.model import Message

PERSIST_GROUP = "persisters"  # the worker's consumer group on the persistence stream
ENTRY_SEQ = b"s"  # an entry's fields: s=<seq> d=<the Draft as msgpack>, in this order (the commit script's)
ENTRY_DRAFT = b"d"
Entry = tuple[bytes, dict[bytes, bytes]]  # a stream entry as redis-py returns it: id, fields
_draft_decoder = msgspec.msgpack.Decoder(Draft)


def persist_key(prefix: str) -> str:
    """The global persistence stream under one key prefix (settings.key_prefix): one Redis, or Sentinel."""
    return f"{prefix}:persist"


def group_persist_key(prefix: str, tag: str) -> str:
    """On a Redis Cluster: the persistence stream of one slot group, in the slot of that group's tickets."""
    return f"{prefix}:{{{tag}}}:persist"


def persist_keys(prefix: str, cluster: bool) -> list[str]:
    """Every persistence stream a worker drains: the one global stream, or one per slot group on a cluster."""
    if not cluster:
        return [persist_key(prefix)]
    return [group_persist_key(prefix, tag) for tag in slot_groups.TAGS]


def decode_message(seq: int, draft_bytes: bytes) -> Message:
    """An entry's draft, committed under its seq."""
    return _draft_decoder.decode(draft_bytes).committed(seq)


def entry_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


async def persist_lag(redis: Redis, stream: str) -> tuple[int, float]:
    """(committed messages not yet acknowledged by a worker, age in seconds of the oldest of them)."""
    try:
        groups = await redis.xinfo_groups(stream)
    except ResponseError:  # no stream yet: nothing was ever committed, or Redis lost it
        return 0, 0.0
    group = next((g for g in groups if g.get("name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
    if group is None:  # no worker ever ran: everything is behind
        length = int(await redis.xlen(stream))
        first = cast(list[Entry], await redis.xrange(stream, count=1))
        return length, await _age(redis, first[0][0] if first else None)
    pending = int(group.get("pending") or 0)
    lag = group.get("lag")
    undelivered = (
        int(lag)
        if lag is not None
        else len(
            cast(
                list[Entry], await redis.xrange(stream, min=b"(" + _as_bytes(group["last-delivered-id"]), count=100_000)
            )
        )
    )
    oldest: bytes | None = None
    if pending:
        oldest = (await redis.xpending(stream, PERSIST_GROUP))["min"]
    elif undelivered:
        after = cast(list[Entry], await redis.xrange(stream, min=b"(" + _as_bytes(group["last-delivered-id"]), count=1))
        oldest = after[0][0] if after else None
    return pending + undelivered, await _age(redis, oldest)


async def _age(redis: Redis, entry_id: bytes | None) -> float:
    if entry_id is None:
        return 0.0
    seconds, micros = await redis.time()
    return max(0.0, (seconds * 1000 + micros // 1000 - entry_ms(entry_id)) / 1000)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


Commands = Callable[[list[tuple[Any, ...]]], Awaitable[list[Any]]]  # many commands, one round trip: replies or errors


async def persist_lag_of(redis: Redis, streams: list[str], run: Commands | None = None) -> tuple[int, float]:
    """persist_lag summed over many streams (a cluster's slot groups; the oldest age of them all), in a fixed
    number of pipelined round trips per node however many streams are behind: their groups, then the oldest entry
    of each stream with something behind, then the server's clock. `run` sends them (a gateway's own pipelined
    connections); by default a redis-py pipeline."""
    if len(streams) == 1:
        return await persist_lag(redis, streams[0])
    run = run or _pipelined(redis)
    replies = await run([("XINFO", "GROUPS", stream) for stream in streams])
    total = 0
    looks: list[tuple[Any, ...]] = []
    counted: list[int] = []  # which looks count the undelivered entries
    for stream, groups in zip(streams, replies):
        if isinstance(groups, Exception):
            continue  # no stream: nothing of this group was ever committed, or Redis lost it
        group = next((g for g in groups if _field(g, "name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
        if group is None:  # no worker ever ran: everything is behind (rare, so one stream at a time)
            messages, _seconds = await persist_lag(redis, stream)
            total += messages
            looks.append(("XRANGE", stream, "-", "+", "COUNT", 1))
            continue
        pending, lag = int(_field(group, "pending") or 0), _field(group, "lag")
        after = b"(" + _as_bytes(_field(group, "last-delivered-id"))
        total += pending + (int(lag) if lag is not None else 0)
        if lag is None:  # Redis cannot tell since entries were deleted: count what follows the group's cursor
            counted.append(len(looks))
            looks.append(("XRANGE", stream, after, "+", "COUNT", 100_000))
        if pending:
            looks.append(("XPENDING", stream, PERSIST_GROUP))
        elif lag is None or int(lag):
            looks.append(("XRANGE", stream, after, "+", "COUNT", 1))
    oldest_ms: int | None = None
    for n, reply in enumerate(await run(looks) if looks else []):
        if isinstance(reply, Exception):
            continue  # the stream went meanwhile (a trim, a flush): nothing of it is behind
        total += len(reply) if n in counted else 0
        first = _oldest_id(reply)
        if first is not None:
            ms = entry_ms(first)
            oldest_ms = ms if oldest_ms is None else min(oldest_ms, ms)
    if oldest_ms is None:
        return total, 0.0
    seconds, micros = await redis.time()
    return total, max(0.0, (seconds * 1000 + micros // 1000 - oldest_ms) / 1000)


def _oldest_id(reply: Any) -> bytes | str | None:
    """The entry id of an XRANGE reply's first entry, or an XPENDING summary's lowest id (a dict from redis-py,
    [count, min, max, consumers] raw)."""
    if isinstance(reply, dict):
        return cast(bytes | None, reply.get("min"))
    if not reply:
        return None
    if isinstance(reply[0], (list, tuple)):
        return cast(bytes, reply[0][0])
    return cast(bytes | None, reply[1])


def _pipelined(redis: Redis) -> Commands:
    async def run(commands: list[tuple[Any, ...]]) -> list[Any]:
        pipe = redis.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))

    return run


def _field(group: object, name: str) -> Any:
    """A field of an XINFO GROUPS entry, parsed (a dict) or raw (a flat list of names and values)."""
    if isinstance(group, dict):
        return group.get(name, group.get(name.encode()))
    if isinstance(group, list):
        fields = dict(zip(group[::2], group[1::2]))
        return fields.get(name.encode(), fields.get(name))
    return None
