"""A minimal WebSocket client on asyncio.Protocol, light enough that one load-generator process drives thousands.

Text frames only, no extensions (compression off everywhere in the benchmark); answers pings; never a library's
per-message task or queue. Client frames carry the all-zero mask key, which servers accept and which costs nothing.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from typing import Callable

OnText = Callable[["WSClient", bytes], None]


class WSClient(asyncio.Protocol):
    def __init__(
        self, on_text: OnText, on_close: Callable[["WSClient"], None] | None = None, tag: object = None
    ) -> None:
        self.on_text = on_text
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.close_code: int | None = None
        self.tag = tag  # the load generator's own label for this connection
        self._buf = bytearray()
        self._handshaken = False
        self._fragments: list[bytes] = []

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str,
        on_text: OnText,
        on_close: Callable[["WSClient"], None] | None = None,
        tag: object = None,
        handshake_timeout_s: float = 30.0,
    ) -> "WSClient":
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(lambda: cls(on_text, on_close, tag), host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        assert client.transport is not None
        client.transport.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        try:
            await asyncio.wait_for(client.open, handshake_timeout_s)
        except BaseException:
            # Given up (timeout, cancel): close it, or the server would finish the handshake for nobody and hold
            # the connection until its hello timeout, at the cost of the clients still trying.
            client.transport.close()
            raise
        return client

    # -- asyncio.Protocol ----------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.open.done():
            self.open.set_exception(ConnectionError(f"closed during handshake: {exc}"))
        if self.on_close:
            self.on_close(self)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if self.open.done():  # the caller gave up waiting; connect() closes the transport
                return
            if b" 101 " not in status + b" ":
                self.open.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self._handshaken = True
            self.open.set_result(None)
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if n - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode == 1 or opcode == 0:
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join(self._fragments) + payload
                self._fragments.clear()
            self.on_text(self, payload)
        elif opcode == 9:
            self._send(0xA, payload)
        elif opcode == 8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if self.transport and not self.transport.is_closing():
                self._send(0x8, payload[:2])
                self.transport.close()

    # -- sending -------------------------------------------------------------------------------------------------
    def _send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head + b"\x00\x00\x00\x00" + payload)

    def send_text(self, text: str | bytes) -> None:
        self._send(0x1, text.encode() if isinstance(text, str) else text)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, struct.pack("!H", 1000))
            self.transport.close()
