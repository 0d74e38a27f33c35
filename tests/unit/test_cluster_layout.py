"""Redis Cluster URLs and the slot-group layout: what a cluster URL yields, and that every key one commit script
touches hashes to one slot (else Redis Cluster refuses the script with CROSSSLOT)."""

from __future__ import annotations

import secrets

import pytest

from realtime.bus.redis.layout import Keys
from support.core import slot_groups
from support.core.redis_url import parse_redis_url


def test_a_cluster_url_names_its_nodes_and_keeps_the_sign_in_and_tls() -> None:
    target = parse_redis_url("rediss+cluster://user:pw@10.0.0.1:7000,10.0.0.2,[::1]:7002?ssl_cert_reqs=none")
    assert target.cluster and not target.sentinel
    assert target.cluster_nodes == (("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002))
    options = target.connection_options()
    assert (options["username"], options["password"], options["ssl_cert_reqs"]) == ("user", "pw", "none")


@pytest.mark.parametrize(
    ("url", "why"),
    [("redis+cluster://", "at least one node"), ("redis+cluster://h1:7000/3", "only database 0")],
)
def test_a_wrong_cluster_url_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_redis_url(url)


def test_every_key_of_a_commit_and_of_presence_shares_the_tickets_slot() -> None:
    keys = Keys("hl", cluster=True)
    for _ in range(200):
        ticket = secrets.token_hex(6)
        touched = [*keys.commit_keys(ticket), *keys.presence_keys(ticket), keys.presence_index_of(ticket)]
        touched.append(keys.channel(ticket))  # SPUBLISH from the script: the channel is in the slot too
        touched.append(keys.queue_of(ticket))  # the ticket's queue updates cross its own shard only
        assert len({slot_groups.key_slot(k) for k in touched}) == 1, touched


def test_the_slot_groups_spread_evenly_over_the_slots() -> None:
    slots = sorted(slot_groups.key_slot(tag) for tag in slot_groups.TAGS)
    assert len(set(slots)) == slot_groups.GROUPS
    stripe = slot_groups.SLOTS // slot_groups.GROUPS
    assert [s // stripe for s in slots] == list(range(slot_groups.GROUPS))  # one group in each stripe of slots
    streams = Keys("hl", cluster=True).persist_streams
    assert len(streams) == slot_groups.GROUPS and len({slot_groups.key_slot(s) for s in streams}) == len(streams)


def test_one_redis_keeps_its_layout() -> None:
    keys = Keys("hl")
    assert keys.commit_keys("t1") == ["hl:{t1}:seq", "hl:{t1}:acid", "hl:{t1}:recent", "hl:persist"]
    assert keys.presence_indexes == ["hl:presence"] and keys.persist_streams == ["hl:persist"]
    assert keys.queue_channels == ["hl:queue"] and keys.queue_of("t1") == "hl:queue"


def test_on_a_cluster_the_queue_channels_spread_over_the_slot_groups() -> None:
    channels = Keys("hl", cluster=True).queue_channels
    assert len({slot_groups.key_slot(c) for c in channels}) == slot_groups.GROUPS
