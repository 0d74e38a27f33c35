"""python-socketio peer: AsyncServer with AsyncRedisManager across nodes, as an ASGI app under uvicorn."""

from __future__ import annotations

from typing import Any

import socketio

from bench.peers.common import REDIS_URL, token_ok

sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(REDIS_URL),
    cors_allowed_origins="*",
    transports=["websocket"],
)


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    if not isinstance(auth, dict) or not token_ok(auth.get("token")):
        raise socketio.exceptions.ConnectionRefusedError("token refused")


@sio.event
async def join(sid: str, room: str) -> None:
    await sio.enter_room(sid, room)
    await sio.emit("joined", room, to=sid)


@sio.event
async def send(sid: str, data: dict[str, Any]) -> None:
    await sio.emit("msg", data, room=data["room"])


app = socketio.ASGIApp(sio)
