"""Redis Cluster slot groups: which slot a ticket's keys live in, and the persistence stream that shares it.

A commit is one script, so every key it touches (the ticket's counter, client ids, recent history, and the
persistence stream it appends to) must hash to one slot. A stream per ticket would leave the workers nothing to
poll; one global stream cannot share every ticket's slot. So tickets are spread over GROUPS slot groups: a ticket's
keys carry the hash tag of its group, and each group has its own persistence stream and presence index under the
same tag. The tags are chosen so that the groups' slots spread evenly over the 16384 slots: a cluster's slot ranges
then hold about as many groups each, and `redis-cli --cluster reshard` moves whole groups between shards.

Pure computation (CRC16, as Redis hashes keys); used by the gateways' bus and the persistence worker alike.
"""

from __future__ import annotations

from binascii import crc_hqx

SLOTS = 16384
GROUPS = 128  # slot groups, fixed for a deployment: changing it moves every ticket's keys (see operations.md)


def key_slot(key: str | bytes) -> int:
    """The Redis Cluster slot of a key: CRC16 of its hash tag (the first non-empty {...}) or of the whole key."""
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start > -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return crc_hqx(data, 0) % SLOTS


def _spread_tags(groups: int) -> tuple[str, ...]:
    """One short tag per group, the group's slot inside the group's 1/groups of the slot range."""
    tags: list[str | None] = [None] * groups
    missing, n = groups, 0
    while missing:
        candidate = f"g{n}"
        bucket = key_slot(candidate) * groups // SLOTS
        if tags[bucket] is None:
            tags[bucket] = candidate
            missing -= 1
        n += 1
    return tuple(t for t in tags if t is not None)


TAGS = _spread_tags(GROUPS)


def group_of(ticket: str) -> int:
    return crc_hqx(ticket.encode(), 0) % GROUPS


def tag_of(ticket: str) -> str:
    """The hash tag (without braces) of a ticket's keys on a cluster."""
    return TAGS[group_of(ticket)]
