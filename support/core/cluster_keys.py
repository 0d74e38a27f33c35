"""The keys of the Redis commands whose keys redis-py's cluster client cannot find by itself (XREADGROUP, XREAD), so
that routing them costs no `COMMAND GETKEYS` round trip to a node before every command.

redis-py finds a command's keys from COMMAND's key positions; for a command flagged `movablekeys` it asks a node
(COMMAND GETKEYS), once per command, twice in a pipeline. The persistence worker's read of 128 slot groups' streams
was 256 such round trips, one after the other, before the pipeline itself left: the worker fell seconds behind.
`KnownKeysParser` answers those commands here, from their syntax, and leaves every other command to redis-py.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from redis._parsers.commands import AsyncCommandsParser

_OPTIONS_WITH_VALUE = {b"COUNT", b"BLOCK"}
_FLAGS = {b"NOACK"}


def _token(arg: object) -> bytes:
    if isinstance(arg, bytes):
        return arg.upper()
    return str(arg).encode().upper()


def stream_read_keys(args: Sequence[Any]) -> Optional[tuple[Any, ...]]:
    """The stream keys of `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS k1 .. kn id1 .. idn` or of
    `XREAD [COUNT n] [BLOCK ms] STREAMS ...` (args[0] is the command's name); None for any other command, or for
    one whose syntax is not that (redis-py asks the node then, and the node answers the error)."""
    if not args:
        return None
    name = _token(args[0])
    if name == b"XREADGROUP":
        if len(args) < 4 or _token(args[1]) != b"GROUP":
            return None
        position = 4  # past GROUP, the group and the consumer: either may be named "STREAMS"
    elif name == b"XREAD":
        position = 1
    else:
        return None
    while position < len(args):
        token = _token(args[position])
        if token == b"STREAMS":
            rest = args[position + 1 :]
            if not rest or len(rest) % 2:
                return None
            return tuple(rest[: len(rest) // 2])
        if token in _OPTIONS_WITH_VALUE:
            position += 2
        elif token in _FLAGS:
            position += 1
        else:
            return None
    return None


class KnownKeysParser(AsyncCommandsParser):
    """redis-py's commands parser, with the stream reads' keys found without asking a node."""

    async def get_keys(self, *args: Any) -> Optional[tuple[Any, ...]]:
        keys = stream_read_keys(args)
        if keys is not None:
            return keys
        return await super().get_keys(*args)
