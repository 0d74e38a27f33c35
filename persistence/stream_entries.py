"""Persistence stream entries as the worker reads them: straight from the server's reply into table rows (no Message
objects on the way), whatever the reply's shape (RESP2 or RESP3, the commit script's field order or any other)."""

from __future__ import annotations

import logging
from typing import Any, Iterable

import msgspec

from persistence.message_rows import MessageRow, StoredDraft, row_of_message
from support.core import stream

log = logging.getLogger("helpline.worker")

RawEntry = tuple[bytes, list[bytes] | dict[bytes, bytes]]  # an entry's fields as a flat list, or as redis-py's dict
_decode_draft = msgspec.msgpack.Decoder(StoredDraft).decode


def decode_entries(entries: Iterable[RawEntry]) -> tuple[list[bytes], list[MessageRow]]:
    """Stream entries straight into table rows (no Message objects on the way); every id, to acknowledge them all.
    An entry no code can read would block the stream forever: it is logged loudly and acknowledged with the rest."""
    ids: list[bytes] = []
    rows: list[MessageRow] = []
    for entry_id, fields in entries:
        ids.append(entry_id)
        try:
            if type(fields) is list and fields[2] == b"s" and fields[4] == b"d":  # the commit script's own order
                seq, draft = int(fields[3]), fields[5]
            else:
                named = fields if isinstance(fields, dict) else dict(zip(fields[::2], fields[1::2]))
                seq, draft = int(named[b"s"]), named[b"d"]
        except Exception:
            log.error("skipping undecodable persistence entry %s: %r", entry_id, fields)
            continue
        try:
            d = _decode_draft(draft)
            a = d.author
            rows.append((d.ticket, seq, d.client_id, a.id, a.name, a.role, d.body, d.internal, d.created_at))
        except Exception:
            try:  # a time msgspec does not parse (this bus never writes one, but be lenient)
                rows.append(row_of_message(stream.decode_message(seq, draft)))
            except Exception:
                log.error("skipping undecodable persistence entry %s: %r", entry_id, fields)
    return ids, rows


def unparsed(response: Any, **_options: Any) -> Any:
    return response


def entries_of(reply: Any) -> list[RawEntry]:
    """XREADGROUP's reply as the server sent it (the worker's client skips redis-py's per-entry dicts): a map of
    stream to entries (RESP3) or a list of [stream, entries] (RESP2); None when nothing came."""
    if not reply:
        return []
    streams = reply.items() if isinstance(reply, dict) else reply
    return [entry for _stream, entries in streams for entry in entries]
