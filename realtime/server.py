"""The gateway's WebSocket server protocol: uvicorn's sans-I/O one, plus a way to write a ready-made frame at once.

The hub encodes an event once per node. Through plain ASGI every recipient would still cost an awaited send through
the framework, a frame built by the protocol library and a task switch in a per-connection writer. Server frames are
not masked, so the wire bytes of a frame are the same for every recipient: with this protocol the frame is built
once (`protocol.text_frame`) and each recipient costs one `transport.write`. The app finds the writer in the ASGI scope's
extensions under `EXTENSION` (ASGI lets a server offer its own); under any other server it falls back to ASGI sends.

Reading, uvicorn pauses the socket after every incoming frame and resumes it when the app reads — two epoll changes a
frame. Here reading pauses only when `READ_AHEAD` frames wait unread, which bounds memory just the same.

The handshake: uvicorn's HTTP protocol parses the request (httptools, in C), then writes it out again as bytes for
the WebSocket protocol to parse a second time, in Python. `HelplineHttpProtocol` hands the parsed request over as it
is (a reconnect storm is thousands of handshakes at once); a request out of the ordinary (not GET, a body, a header
websockets would refuse as too long or too many) still goes the old way, so websockets answers it as before.

Memory: an idle connection is mostly this object. asyncio.Queue and asyncio.Event hold three deques and one (about
2.7 KiB together, allocated per connection); `Inbox` and `Writable` do the same jobs with a list and a flag. The
handshake's request and response (headers, some 2 KiB) are let go once the handshake is answered.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, TypedDict, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS, Request
from websockets.protocol import Protocol, State

EXTENSION = "helpline.frames"
READ_AHEAD = 16  # frames received but not yet read by the app before the socket stops being read


class FrameWriter(TypedDict):
    write: Callable[[bytes], bool]  # write one complete WebSocket frame; False once the connection is closing
    buffered: Callable[[], int]  # bytes written but not yet taken by the kernel (a slow reader's backlog)


class Inbox:
    """What asyncio.Queue does for uvicorn's received events (one producer, one reader), without its three deques."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)  # never more than READ_AHEAD (plus a disconnect) waiting

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class Writable:
    """What asyncio.Event does for uvicorn's write flow control; waiters exist only while the socket is paused."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter
        return True


class HelplineWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: dict[str, Any] | None = getattr(self, "scope", None)
        # Only when no extension (per-message deflate) changes what goes on the wire: then raw frames are exact.
        if scope is not None and not self.conn.extensions:
            writer: FrameWriter = {"write": self.write_frame, "buffered": self.transport.get_write_buffer_size}
            scope["extensions"][EXTENSION] = writer

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            self.handshake_complete = True  # refused with an HTTP response (a draining node): answered, not "failed"
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = self.response = None  # type: ignore[assignment]  # answered: headers no longer needed

    def connection_lost(self, exc: Exception | None) -> None:
        """A closed connection must go with its last reference, not wait for the cyclic collector (a full collection
        walks every tracked object of a node, issue 18; a frozen cycle is never freed). Two cycles held each closed
        connection's 25 tracked objects (this protocol, its transport, the websockets state): the scope's writer is
        this protocol's own bound method, and the websockets parser is a generator whose frame holds its protocol.
        Nothing writes through the one or reads through the other once the connection is lost."""
        super().connection_lost(exc)
        scope: dict[str, Any] | None = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"].pop(EXTENSION, None)  # the app took its writer at the start (realtime/connection.py)
        self.conn.parser.close()  # no data arrives after this: its frame lets go of the websockets protocol

    def write_frame(self, frame: bytes) -> bool:
        if self.close_sent or self.disconnected or self.conn.state is not State.OPEN:
            return False
        self.transport.write(frame)
        return True

    def take_request(self, request: Request) -> None:
        """The handshake request, parsed already (HelplineHttpProtocol): from here on the parser reads frames."""
        self.conn.parser.close()  # the request parser, still waiting for a first line that will not come
        self.conn.parser = Protocol.parse(self.conn)  # ServerProtocol.parse past its request: the frame loop
        next(self.conn.parser)
        self.handle_connect(request)

    def send_receive_event_to_app(self) -> None:
        # uvicorn's own, but pausing the socket only when READ_AHEAD frames wait unread (its `receive` resumes).
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # past `websocket.close`: keep reading until the peer's close reply, queue nothing
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        if not self.read_paused and self.queue.qsize() >= READ_AHEAD:
            self.read_paused = True
            self.transport.pause_reading()


class HelplineHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, handing a WebSocket upgrade over without serialising and re-parsing it."""

    def handle_websocket_upgrade(self) -> None:
        request = self._plain_request() if self.ws_protocol_class is HelplineWebSocketProtocol else None
        if request is None:
            super().handle_websocket_upgrade()
        else:
            self.connections.discard(self)
            protocol = HelplineWebSocketProtocol(
                config=self.config, server_state=self.server_state, app_state=self.app_state, _loop=self.loop
            )  # the loop passed on: uvicorn looks it up again otherwise (asyncio.get_event_loop, per connection)
            protocol.connection_made(self.transport)
            self.transport.set_protocol(protocol)
            protocol.take_request(request)
        # Done with HTTP on this connection: the parser holds this protocol as its callbacks, a cycle that would
        # leave every upgraded connection's HTTP side to the cyclic collector (or frozen for good by the refreeze).
        self.parser = None  # type: ignore[assignment]

    def _plain_request(self) -> Request | None:
        """The request as websockets would have parsed it, or None where its parser might have answered otherwise."""
        raw = cast(list[tuple[bytes, bytes]], self.scope["headers"])  # the list httptools' callbacks filled
        if self.scope["method"] != "GET" or len(raw) > MAX_NUM_HEADERS:
            return None
        try:
            path = self.url.decode("ascii")  # websockets refuses anything else with a 400: let it
            # websockets' own decoding: ASCII names; values ISO-8859-1, where non-ASCII bytes are tolerated
            pairs = [(name.decode("ascii"), value.decode("latin-1")) for name, value in raw]
        except UnicodeDecodeError:
            return None
        if len(path) + len(" HTTP/1.1\r\nGET ") > MAX_LINE_LENGTH or any(
            len(name) + len(value) + len(": \r\n") > MAX_LINE_LENGTH or name in ("transfer-encoding", "content-length")
            for name, value in pairs
        ):
            return None  # websockets answers these itself (414, 431, or 400 for a body)
        return Request(path, Headers(pairs))
