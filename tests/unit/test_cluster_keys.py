"""The keys of the stream reads on a Redis Cluster, found without asking a node (no COMMAND GETKEYS round trip):
what the worker's XREADGROUP of a slot group's stream is routed by, and that other commands are left to redis-py."""

from __future__ import annotations

import pytest

from support.core import slot_groups, stream
from support.core.cluster_keys import KnownKeysParser, stream_read_keys
from support.core.redis_url import cluster_client, parse_redis_url


def test_the_workers_read_of_a_slot_groups_stream_is_routed_by_that_stream() -> None:
    key = stream.group_persist_key("hl", slot_groups.TAGS[7])
    command = ("XREADGROUP", "GROUP", stream.PERSIST_GROUP, "worker-1", "COUNT", 100, "STREAMS", key, ">")
    assert stream_read_keys(command) == (key,)


@pytest.mark.parametrize(
    ("command", "keys"),
    [
        (
            (b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", 1000, b"NOACK", b"STREAMS", b"a", b"b", b">", b">"),
            (b"a", b"b"),
        ),
        (("xreadgroup", "GROUP", "STREAMS", "STREAMS", "streams", "k", "0"), ("k",)),  # a group named STREAMS
        (("XREAD", "COUNT", 10, "STREAMS", "k1", "k2", "0-0", "$"), ("k1", "k2")),
        (("XREAD", "STREAMS", "k", "0"), ("k",)),
    ],
)
def test_a_stream_reads_keys_are_the_first_half_after_streams(
    command: tuple[object, ...], keys: tuple[object, ...]
) -> None:
    assert stream_read_keys(command) == keys


@pytest.mark.parametrize(
    "command",
    [
        ("XADD", "k", "*", "f", "v"),
        ("XREADGROUP", "g", "c", "STREAMS", "k", ">"),  # no GROUP
        ("XREAD", "STREAMS", "k1", "k2", "0"),  # keys and ids do not pair up
        ("XREAD", "COUNT", 1),
        ("XREAD", "FOO", "STREAMS", "k", "0"),
    ],
)
def test_any_other_command_is_left_to_redis_py(command: tuple[object, ...]) -> None:
    assert stream_read_keys(command) is None


async def test_a_cluster_client_routes_a_stream_read_without_asking_a_node() -> None:
    # An address nothing listens on: a COMMAND GETKEYS (or any round trip) would fail.
    client = cluster_client(parse_redis_url("redis+cluster://127.0.0.1:1"))
    assert isinstance(client.commands_parser, KnownKeysParser)
    key = stream.group_persist_key("hl", slot_groups.TAGS[3])
    keys = await client.commands_parser.get_keys("XREADGROUP", "GROUP", "g", "c", "STREAMS", key, ">")
    assert keys == (key,)
    assert client.keyslot(key) == slot_groups.key_slot(key)
