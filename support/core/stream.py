"""The persistence stream's contract: the durable stream of committed messages that the Redis bus appends to (its
commit script) and the persistence worker drains. Its key, its consumer group, its entries, and how far the worker
is behind (messages and seconds), read by the gateways' bus (their /metrics) and by the worker (its /metrics, log).

Both sides import this one module, so neither imports the other (realtime/ and persistence/ never meet). It opens no
connection: `persist_lag` reads through the client its caller passes.
"""

from __future__ import annotations

from typing import Any, cast

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


async def persist_lag_of(redis: Redis, streams: list[str]) -> tuple[int, float]:
    """persist_lag summed over many streams (a cluster's slot groups; the oldest age of them all): their groups
    are read in one pipelined round trip per node, and only a stream with something behind is looked at closer."""
    if len(streams) == 1:
        return await persist_lag(redis, streams[0])
    pipe = redis.pipeline(transaction=False)
    for stream in streams:
        pipe.execute_command("XINFO", "GROUPS", stream)
    replies = await pipe.execute(raise_on_error=False)
    total, oldest = 0, 0.0
    for stream, groups in zip(streams, replies):
        if isinstance(groups, Exception):
            continue  # no stream: nothing of this group was ever committed, or Redis lost it
        group = next((g for g in groups if _field(g, "name") in (PERSIST_GROUP, PERSIST_GROUP.encode())), None)
        if group is not None and not int(_field(group, "pending") or 0) and _field(group, "lag") in (0, b"0", "0"):
            continue
        messages, seconds = await persist_lag(redis, stream)
        total, oldest = total + messages, max(oldest, seconds)
    return total, oldest


def _field(group: object, name: str) -> Any:
    """A field of an XINFO GROUPS entry, parsed (a dict) or raw (a flat list of names and values)."""
    if isinstance(group, dict):
        return group.get(name, group.get(name.encode()))
    if isinstance(group, list):
        fields = dict(zip(group[::2], group[1::2]))
        return fields.get(name.encode(), fields.get(name))
    return None
