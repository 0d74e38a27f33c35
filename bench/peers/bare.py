"""The bare baseline: the `websockets` library and one Redis pub/sub connection per node, nothing else.

What a hand-written fan-out costs on this machine: decode the frame, PUBLISH, and on the way back encode once and
write the same frame to every local member. No durability, no ordering, no presence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.peers.common import REDIS_URL, token_ok


class BareNode:
    def __init__(self) -> None:
        # Publishes wait for a pooled connection: redis-py's default pool refuses (MaxConnectionsError) when a burst
        # of sends needs more connections than it allows at once, which closed senders at 30,000 deliveries/s.
        self.redis = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(REDIS_URL, max_connections=64, timeout=10)
        )
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.rooms: dict[str, set[ServerConnection]] = {}

    async def handler(self, ws: ServerConnection) -> None:
        try:
            hello = json.loads(await ws.recv())
        except Exception:
            return
        if hello.get("op") != "hello" or not token_ok(hello.get("token")):
            await ws.close(4401)
            return
        await ws.send('{"op":"welcome"}')
        joined: set[str] = set()
        try:
            async for raw in ws:
                msg = json.loads(raw)
                op = msg.get("op")
                if op == "send":
                    room = msg["room"]
                    await self.redis.publish("bare:" + room, json.dumps({"room": room, "body": msg["body"]}))
                elif op == "join":
                    room = msg["room"]
                    members = self.rooms.setdefault(room, set())
                    members.add(ws)
                    joined.add(room)
                    if len(members) == 1:
                        await self.pubsub.subscribe("bare:" + room)
                    await ws.send(json.dumps({"op": "joined", "room": room}))
        except Exception as exc:  # the connection ends (websockets then closes it with 1000): say why
            print(f"bare: connection ended: {exc!r}", file=sys.stderr, flush=True)
        finally:
            for room in joined:
                members = self.rooms.get(room, set())
                members.discard(ws)
                if not members:
                    self.rooms.pop(room, None)
                    await self.pubsub.unsubscribe("bare:" + room)

    async def relay(self) -> None:
        await self.pubsub.subscribe("bare:_")  # listen() ends when nothing is subscribed
        async for message in self.pubsub.listen():
            if message["type"] == "message":
                members = self.rooms.get(message["channel"][5:].decode())
                if members:
                    broadcast(members, message["data"].decode())


async def main(host: str, port: int) -> None:
    node = BareNode()
    relay = asyncio.create_task(node.relay())
    # The accept queue Helpline's gateway asks for (helpline/cli.py): loop.create_server's default of 100 dropped
    # the handshakes of a reconnect storm of thousands, which then waited for the client's SYN retransmits (1, 3, 7,
    # 15, 31 s): the storm measured the backlog, not the server.
    async with serve(node.handler, host, port, compression=None, max_size=64 * 1024, backlog=4096):
        await asyncio.Future()
    relay.cancel()


if __name__ == "__main__":
    import uvloop

    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    uvloop.run(main(a.host, a.port))
