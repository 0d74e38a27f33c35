"""What a join reads from Redis: a ticket's recent history and the copy of its read cursors, in one script.

The copy (`P:{T}:rc`) is filled from the database when missing and moved by every read, the highest seq winning;
the database stays the truth. Nothing here commits or fans out.
"""

from __future__ import annotations

import logging
from typing import Any

from realtime.bus.redis import layout as layout
from realtime.bus.redis import scripts as scripts
from realtime.bus.redis.cluster import ClusterPipe
from realtime.bus.redis.failures import reply_errors
from realtime.bus.redis.wire import CommandPipe, ReplyError
from support.core.errors import Unavailable
from support.core.model import Message

log = logging.getLogger("helpline.bus.redis")

CURSORS_TTL_MS = 3600 * 1000  # a ticket nobody joined for an hour reads its cursors from the database again
FILLED = b""  # the copy's marker field: present once every cursor of the database is in it (none may be "known empty")


class CatchUp:
    """A ticket's recent history and read-cursor copy, read through the bus's pipelined connection."""

    def __init__(
        self, commands: CommandPipe | ClusterPipe, keys: layout.Keys, lua: scripts.Scripts, replicated: bool = False
    ) -> None:
        self._commands = commands
        self._keys = keys
        self._scripts = lua
        self._replicated = "1" if replicated else ""  # catch_up.lua reads only up to the published mark

    async def recent(self, ticket: str, after_seq: int) -> list[Message] | None:
        if self._replicated:  # only up to the published mark, as a join reads it: never a commit still waiting
            messages, _ = await self.catch_up(ticket, after_seq)
            return messages
        # On the pipelined connection: a gap fill after a reconnect reads it for every ticket at once.
        async with reply_errors("reading recent history"):
            entries = await self._commands.call("XRANGE", self._keys.recent(ticket), f"{max(after_seq, 0)}-0", "+")
        return messages_after(entries, after_seq)

    async def recent_between(self, ticket: str, after_seq: int, upto_seq: int) -> list[Message]:
        """What the recent history holds after `after_seq` up to `upto_seq`, however far back it reaches (no proof
        of contiguity: a gap fill hands on what there is; its clients recover the rest on their next join)."""
        async with reply_errors("reading recent history"):
            entries = await self._commands.call(
                "XRANGE", self._keys.recent(ticket), f"{max(after_seq + 1, 0)}-0", f"{upto_seq}-0"
            )
        return messages_after(entries or [], after_seq, contiguous=False) or []

    async def catch_up(self, ticket: str, after_seq: int) -> tuple[list[Message] | None, dict[str, int] | None]:
        """The messages after `after_seq` (None: the stream does not reach back, read the database) and the read
        cursors (None: the copy is missing, read the database and keep_read_cursors what it said)."""
        after = max(after_seq, 0)
        async with reply_errors("reading recent history"):
            nothing_new, entries, flat = await self._scripts.catch_up.on(
                self._commands, self._keys.catch_up_keys(ticket), [after, self._replicated]
            )
        messages = [] if nothing_new else messages_after(entries, after_seq)
        return messages, cursors_of(flat)

    async def keep_read_cursors(self, ticket: str, cursors: dict[str, int]) -> None:
        """Fill the copy with what the database said; a failure only means the next join reads the database."""
        await self._fill(ticket, "", cursors)

    async def note_read(self, ticket: str, user_id: str, seq: int) -> None:
        """A cursor moved in the database: move the copy too (never back)."""
        await self._fill(ticket, "note", {user_id: seq})

    async def _fill(self, ticket: str, how: str, cursors: dict[str, int]) -> None:
        pairs: list[object] = [x for user_id, seq in cursors.items() for x in (user_id, seq)]
        try:
            await self._scripts.read_cursor_fill.on(
                self._commands, [self._keys.read_cursors(ticket)], [CURSORS_TTL_MS, how, *pairs]
            )
        except (Unavailable, ReplyError) as exc:
            log.warning("the read-cursor copy of %s was not updated (%r); it expires within the hour", ticket, exc)


def messages_after(entries: Any, after_seq: int, contiguous: bool = True) -> list[Message] | None:
    """A recent-history XRANGE reply as messages after `after_seq`, or None where it does not reach back that far
    (unless `contiguous` is False: then whatever it holds)."""
    if contiguous and (not entries or layout.seq_of_entry_id(entries[0][0]) > after_seq + 1):
        return None  # the capped stream does not reach back that far (or is gone): read the database
    messages = []
    for entry_id, fields in entries:  # fields as Redis sends them: [b"d", payload]
        seq = layout.seq_of_entry_id(entry_id)
        if seq > after_seq:
            messages.append(layout.decode_message(seq, fields[fields.index(b"d") + 1]))
    return messages


def cursors_of(flat: list[bytes]) -> dict[str, int] | None:
    """HGETALL's flat reply as {user id: seq}, or None when the copy was never filled."""
    pairs = dict(zip(flat[::2], flat[1::2]))
    if pairs.pop(FILLED, None) is None:
        return None
    return {user_id.decode(): int(seq) for user_id, seq in pairs.items()}
