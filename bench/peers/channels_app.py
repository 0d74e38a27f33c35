"""Django Channels peer, with channels_redis's pub/sub layer or its classic layer (BENCH_CHANNELS_LAYER)."""

from __future__ import annotations

import json
from typing import Any

import django
from django.conf import settings

from bench.peers.common import CHANNELS_LAYER, REDIS_URL, token_ok

LAYERS = {"pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer", "classic": "channels_redis.core.RedisChannelLayer"}
settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    USE_TZ=True,
    CHANNEL_LAYERS={"default": {"BACKEND": LAYERS[CHANNELS_LAYER], "CONFIG": {"hosts": [REDIS_URL]}}},
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.authed = False
        self.rooms: set[str] = set()
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        msg: dict[str, Any] = json.loads(text_data or "{}")
        op = msg.get("op")
        if not self.authed:
            if op != "hello" or not token_ok(msg.get("token")):
                await self.close(4401)
                return
            self.authed = True
            await self.send(text_data='{"op":"welcome"}')
        elif op == "send":
            text = json.dumps({"room": msg["room"], "body": msg["body"]})
            await self.channel_layer.group_send(msg["room"], {"type": "room.message", "text": text})
        elif op == "join":
            await self.channel_layer.group_add(msg["room"], self.channel_name)
            self.rooms.add(msg["room"])
            await self.send(text_data=json.dumps({"op": "joined", "room": msg["room"]}))

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def disconnect(self, code: int) -> None:
        for room in self.rooms:
            await self.channel_layer.group_discard(room, self.channel_name)


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws", RoomConsumer.as_asgi())])})
