"""The gateway's WebSocket server protocol: uvicorn's sans-I/O one, plus a way to write a ready-made frame at once.

The hub encodes an event once per node. Through plain ASGI every recipient would still cost an awaited send through
the framework, a frame built by the protocol library and a task switch in a per-connection writer. Server frames are
not masked, so the wire bytes of a frame are the same for every recipient: with this protocol the frame is built
once (`protocol.text_frame`) and each recipient costs one `transport.write`. The app finds the writer in the ASGI scope's
extensions under `EXTENSION` (ASGI lets a server offer its own); under any other server it falls back to ASGI sends.

Reading, uvicorn pauses the socket after every incoming frame and resumes it when the app reads — two epoll changes a
frame. Here reading pauses only when `READ_AHEAD` frames wait unread, which bounds memory just the same.
"""

from __future__ import annotations

from typing import Any, Callable, TypedDict

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

EXTENSION = "helpline.frames"
READ_AHEAD = 16  # frames received but not yet read by the app before the socket stops being read


class FrameWriter(TypedDict):
    write: Callable[[bytes], bool]  # write one complete WebSocket frame; False once the connection is closing
    buffered: Callable[[], int]  # bytes written but not yet taken by the kernel (a slow reader's backlog)


class HelplineWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: dict[str, Any] | None = getattr(self, "scope", None)
        # Only when no extension (per-message deflate) changes what goes on the wire: then raw frames are exact.
        if scope is not None and not self.conn.extensions:
            writer: FrameWriter = {"write": self.write_frame, "buffered": self.transport.get_write_buffer_size}
            scope["extensions"][EXTENSION] = writer

    def write_frame(self, frame: bytes) -> bool:
        if self.close_sent or self.disconnected or self.conn.state is not State.OPEN:
            return False
        self.transport.write(frame)
        return True

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
