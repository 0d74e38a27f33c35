"""Where the Redis bus keeps things and how it encodes them: key names, channel payloads, stream entries.

Shared by the gateway's RedisBus and the persistence worker, so both read the same layout. No I/O here.
Per-ticket keys carry a hash tag, so they share one slot: {ticket} on one Redis (or Sentinel), the ticket's slot
group on a Redis Cluster (support/core/slot_groups.py), whose persistence stream and presence index share that slot.
"""

from __future__ import annotations

import msgspec

from support.core.bus import BusEvent, Draft, MessageEvent, TicketEvent
from support.core.model import TicketView, User
from support.core import slot_groups
from support.core.stream import Entry, decode_message, group_persist_key, persist_key, persist_keys

__all__ = ["Entry", "decode_message"]  # the persistence stream's own, used here through this module

_draft_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(BusEvent)
_views_decoder = msgspec.msgpack.Decoder(list[TicketView])
_user_encoder = msgspec.json.Encoder()
_user_decoder = msgspec.json.Decoder(User)

MESSAGE_KIND = b"m"  # b"m<seq> <draft msgpack>": the commit script publishes the stream's bytes as they are
EVENT_KIND = b"e"  # b"e<BusEvent msgpack>": typing, read, presence, ticket changes
VIEWS_KIND = b"q"  # b"q<list[TicketView] msgpack>": a coalesced queue flush's views, one publish per queue channel


class Keys:
    """Every key and channel name under one prefix (settings.key_prefix); `cluster` for the slot-group layout."""

    def __init__(self, prefix: str, cluster: bool = False) -> None:
        self.prefix = prefix
        self.cluster = cluster
        self.persist = persist_key(prefix)  # the global persistence stream, drained by `helpline worker`
        self.queue = f"{prefix}:queue"  # channel of ticket changes, for agents' queue views (one Redis)
        self.presence_index = f"{prefix}:presence"  # zset "ticket\nconnection" -> expiry (ms), for the sweep
        self.persist_streams = persist_keys(prefix, cluster)
        # One presence index per slot group on a cluster (a script only touches keys of its own slot).
        self.presence_indexes = (
            [f"{prefix}:{{{tag}}}:presence" for tag in slot_groups.TAGS] if cluster else [self.presence_index]
        )
        # On a cluster the queue channel is one per slot group too: a ticket's changes cross only its own shard,
        # and the queue's traffic spreads over the shards as the tickets do (every node subscribes to all).
        self.queue_channels = [f"{prefix}:{{{tag}}}:queue" for tag in slot_groups.TAGS] if cluster else [self.queue]

    def _ticket(self, ticket: str) -> str:
        """The prefix of a ticket's keys, with their hash tag."""
        if self.cluster:
            return f"{self.prefix}:{{{slot_groups.tag_of(ticket)}}}:{ticket}"
        return f"{self.prefix}:{{{ticket}}}"

    def persist_of(self, ticket: str) -> str:
        """The persistence stream the ticket's commits go to."""
        return group_persist_key(self.prefix, slot_groups.tag_of(ticket)) if self.cluster else self.persist

    def presence_index_of(self, ticket: str) -> str:
        if self.cluster:
            return self.presence_indexes[slot_groups.group_of(ticket)]
        return self.presence_index

    def queue_of(self, ticket: str) -> str:
        """The channel the ticket's changes go to, for the agents' queue views."""
        return self.queue_channels[slot_groups.group_of(ticket)] if self.cluster else self.queue

    def seq(self, ticket: str) -> str:
        return f"{self._ticket(ticket)}:seq"

    def client_ids(self, ticket: str) -> str:
        # Fields are author_client_key()s. Named anew with that key ("acid", not the old "cid" of bare client ids):
        # a ticket whose hash is missing is seeded from the database, so no field of the old kind is ever read.
        return f"{self._ticket(ticket)}:acid"

    def recent(self, ticket: str) -> str:
        return f"{self._ticket(ticket)}:recent"

    def published(self, ticket: str) -> str:
        """The highest seq published after its WAIT, or seeded from the database: it and every seq before it are
        replicated, so with MIN_REPLICAS a join reads the recent history up to it, never a commit still waiting."""
        return f"{self._ticket(ticket)}:pub"

    def read_cursors(self, ticket: str) -> str:
        """The copy of the ticket's read cursors for joins (catch_up.py); the database holds the truth."""
        return f"{self._ticket(ticket)}:rc"

    def channel(self, ticket: str) -> str:
        return f"{self._ticket(ticket)}:ch"

    def presence(self, ticket: str) -> str:
        return f"{self._ticket(ticket)}:pz"

    def users(self, ticket: str) -> str:
        return f"{self._ticket(ticket)}:pu"

    def rate_limit(self, budget: str, key: str) -> str:
        """One token bucket of a budget (e.g. "http-write"), for one caller (a user id, a client address)."""
        return f"{self.prefix}:limit:{budget}:{key}"

    def commit_keys(self, ticket: str) -> list[str]:
        return [self.seq(ticket), self.client_ids(ticket), self.recent(ticket), self.persist_of(ticket)]

    def catch_up_keys(self, ticket: str) -> list[str]:
        return [self.recent(ticket), self.seq(ticket), self.read_cursors(ticket), self.published(ticket)]

    def publish_keys(self, ticket: str) -> list[str]:
        """publish_committed.lua's: the client ids and the recent history it reads, the mark it raises."""
        return [self.client_ids(ticket), self.recent(ticket), self.published(ticket)]

    def seed_keys(self, ticket: str) -> list[str]:
        return [self.seq(ticket), self.client_ids(ticket), self.recent(ticket), self.published(ticket)]

    def presence_keys(self, ticket: str) -> list[str]:
        return [self.presence(ticket), self.users(ticket)]


def author_client_key(author_id: str, client_id: str) -> str:
    """The idempotency key of a message within its ticket: its author and the author's client_id. Length-prefixed,
    so no pair of ids can spell another pair's key whatever characters they hold (and none is the empty field the
    commit script uses as its seeded mark)."""
    return f"{len(author_id)}:{author_id}{client_id}"


def encode_draft(draft: Draft) -> bytes:
    return _draft_encoder.encode(draft)


def encode_event(event: BusEvent) -> bytes:
    return EVENT_KIND + _draft_encoder.encode(event)


def decode_payload(payload: bytes) -> BusEvent:
    """A channel payload back into an event: one decode per message per node."""
    if payload[:1] == MESSAGE_KIND:
        head, _, draft = payload.partition(b" ")
        return MessageEvent(decode_message(int(head[1:]), draft))
    return _event_decoder.decode(payload[1:])


def encode_views(views: list[TicketView]) -> bytes:
    return VIEWS_KIND + _draft_encoder.encode(views)


def decode_queue_payload(payload: bytes) -> list[BusEvent]:
    """A queue channel's payload: one ticket's change (EVENT_KIND) or a flush's batch of views (VIEWS_KIND)."""
    if payload[:1] == VIEWS_KIND:
        return [TicketEvent(view) for view in _views_decoder.decode(payload[1:])]
    return [decode_payload(payload)]


def seq_of_entry_id(entry_id: bytes | str) -> int:
    """Recent-history entries are stored under the id `<seq>-0`."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def encode_user(user: User) -> bytes:
    return _user_encoder.encode(user)


def decode_user(raw: bytes | str) -> User:
    return _user_decoder.decode(raw)
