"""Starlette + encode/broadcaster peer: one broadcaster subscription per joined room per connection, on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import AsyncIterator

from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.peers.common import REDIS_URL, token_ok

broadcast = Broadcast(REDIS_URL)


async def relay(websocket: WebSocket, room: str) -> None:
    async with broadcast.subscribe(channel=room) as subscriber:
        await websocket.send_text(json.dumps({"op": "joined", "room": room}))
        async for event in subscriber:  # type: ignore[union-attr]
            await websocket.send_text(event.message)


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    hello = json.loads(await websocket.receive_text())
    if hello.get("op") != "hello" or not token_ok(hello.get("token")):
        await websocket.close(4401)
        return
    await websocket.send_text('{"op":"welcome"}')
    relays: list[asyncio.Task[None]] = []
    try:
        while True:
            msg = json.loads(await websocket.receive_text())
            op = msg.get("op")
            if op == "send":
                await broadcast.publish(
                    channel=msg["room"], message=json.dumps({"room": msg["room"], "body": msg["body"]})
                )
            elif op == "join":
                relays.append(asyncio.create_task(relay(websocket, msg["room"])))
    except WebSocketDisconnect:
        pass
    finally:
        for task in relays:
            task.cancel()


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await broadcast.connect()
    try:
        yield
    finally:
        await broadcast.disconnect()


app = Starlette(routes=[WebSocketRoute("/ws", endpoint)], lifespan=lifespan)
