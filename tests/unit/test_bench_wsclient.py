"""The load generator's WebSocket client gives a handshake up cleanly: a slow server must not be left holding a
connection that nobody will use (in a reconnect storm that would be load no real client makes)."""

from __future__ import annotations

import asyncio

import pytest

from bench.wsclient import WSClient


async def test_a_handshake_given_up_closes_its_connection() -> None:
    closed = asyncio.Event()

    async def slow_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.5)  # answers only after the client stopped waiting
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        await writer.drain()
        if await reader.read(1) == b"":  # end of stream: the client closed it
            closed.set()

    server = await asyncio.start_server(slow_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(asyncio.TimeoutError):
            await WSClient.connect("127.0.0.1", port, "/ws", lambda c, f: None, handshake_timeout_s=0.1)
        await asyncio.wait_for(closed.wait(), 5)
