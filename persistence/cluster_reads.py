"""The persistence worker's reads on a Redis Cluster, replicated when asked: commands on many slot groups' streams in
one pipelined round trip per node and, with min_replicas, a WAIT per node sent right after that node's commands.

WAIT counts the writes of the connection it is sent on (a read of a consumer group is a write: it moves the group's
cursor), and a cluster pipeline sends each node's commands on one connection, in order: so the WAIT routed to a node
covers every entry read there, and every commit before them. A WAIT on another connection would answer at once and
prove nothing. A key whose slot moved during the round trip (MOVED / ASK, resent alone on another connection) is
not covered, and is answered as short, like a node whose WAIT fell short: its entries stay pending in the group,
unwritten, and the worker takes them again later (XAUTOCLAIM), once their replicas can be waited for."""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster

SHORT = object()  # the reply of a command whose node's replicas did not confirm it


async def replicated(
    redis: RedisCluster, commands: list[tuple[str, tuple[Any, ...]]], replicas: int, timeout_ms: int
) -> list[Any]:
    """Each (key, command) run on the node serving its key, all in one round trip per node; the replies in order,
    errors as exceptions. With replicas > 0, a reply is SHORT unless that many replicas have its node's writes."""
    pipe = redis.pipeline(transaction=False)
    for _key, args in commands:
        pipe.execute_command(*args)
    nodes: dict[str, Any] = {}
    before: list[str] = []
    if replicas:
        for key, _args in commands:
            node = _node_of(redis, key)
            before.append(node.name)
            nodes.setdefault(node.name, node)
        for node in nodes.values():  # after every command of the node: the pipeline keeps each node's order
            pipe.execute_command("WAIT", replicas, timeout_ms, target_nodes=node)
    replies = await pipe.execute(raise_on_error=False)
    out = replies[: len(commands)]
    if not replicas:
        return out
    waited = dict(zip(nodes, replies[len(commands) :]))
    for i, (key, _args) in enumerate(commands):
        confirmed = waited[before[i]]
        moved = _node_of(redis, key).name != before[i]
        if isinstance(out[i], Exception):
            continue  # the command's own error (NOGROUP, say) is the caller's to handle
        if moved or isinstance(confirmed, Exception) or int(confirmed) < replicas:
            out[i] = SHORT
    return out


def _node_of(redis: RedisCluster, key: str) -> ClusterNode:
    """The primary serving the key's slot, as the client's slot table has it now."""
    node = redis.get_node_from_key(key)
    if node is None:  # only for replica=True: a primary always serves a covered slot
        raise LookupError(key)
    return node
