"""A small real WebSocket client for tests: speaks the /ws protocol and keeps every frame it got."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._cursor = 0
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self.closed_code: int | None = None

    @classmethod
    async def connect(cls, ws_url: str, token: str | None = None, **kwargs: Any) -> "Client":
        ws = await connect(ws_url, max_size=None, **kwargs)
        client = cls(ws)
        if token is not None:
            await client.send({"type": "hello", "token": token})
            await client.expect("welcome")
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
                self._arrived.set()
        except Exception:
            pass
        finally:
            self.closed_code = self.ws.close_code
            self._arrived.set()

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def expect(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next frame of this type (and fields), in arrival order; frames before it stay readable."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for i in range(self._cursor, len(self.frames)):
                frame = self.frames[i]
                if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                    self._cursor = i + 1
                    return frame
            if self._reader.done():
                raise AssertionError(f"closed ({self.closed_code}) before a {type_} frame; got {self.frames}")
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} frame {match} within {timeout}s; got {self.frames[-10:]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until predicate(frames) holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self.frames):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._reader.done():
                raise AssertionError(f"condition not met within {timeout}s; last frames {self.frames[-5:]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def of_type(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == type_ and all(f.get(k) == v for k, v in match.items())]

    async def join(self, ticket: str, since: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "ticket": ticket}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        return await self.expect("joined", ticket=ticket)

    async def say(self, ticket: str, body: str, internal: bool = False, client_id: str | None = None) -> dict[str, Any]:
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "send", "ticket": ticket, "client_id": client_id, "body": body, "internal": internal})
        return await self.expect("ack", client_id=client_id)

    async def wait_closed(self, timeout: float = 15.0) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.closed_code

    async def close(self) -> None:
        await self.ws.close()
        try:
            await asyncio.wait_for(self._reader, 2)
        except (asyncio.TimeoutError, Exception):
            pass


async def hello_outcome(ws_url: str, token: str, forwarded_for: str | None = None) -> int | str:
    """ "welcome" when a new connection is let in, else the close code it got (e.g. 4429, rate limited)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    client = await Client.connect(ws_url, additional_headers=headers)
    try:
        await client.send({"type": "hello", "token": token})
    except Exception:  # noqa: BLE001 - closed before the hello went out: the close code says why
        pass
    outcome: int | str
    try:
        await client.expect("welcome")
        outcome = "welcome"
    except AssertionError:
        outcome = await client.wait_closed(5) or 0
    await client.close()
    return outcome
