"""What "hello / join room / send to room" looks like on the wire of each system under test.

One adapter per wire protocol; the load generator is the same program for all. A message body carries its send
time, so latency is read from the frame whatever framing the system wraps around it.
"""

from __future__ import annotations

import json
import time

BODY_BYTES = 100
MARK = b"@@"


def make_body(room: int, n: int) -> str:
    head = f"@@{time.monotonic_ns():019d}{room:06d}{n:09d}"
    return head + "x" * (BODY_BYTES - len(head))


def parse_body(frame: bytes) -> tuple[int, int, int] | None:
    """(send time ns, room, n) of the body inside a frame, or None for frames that carry no benchmark message."""
    i = frame.find(MARK)
    if i < 0:
        return None
    return int(frame[i + 2 : i + 21]), int(frame[i + 21 : i + 27]), int(frame[i + 27 : i + 36])


class Adapter:
    path = "/ws"

    def hello(self, token: str) -> str:
        return json.dumps({"op": "hello", "token": token})

    def is_welcome(self, frame: bytes) -> bool:
        return b'"welcome"' in frame

    def join(self, room: str) -> str:
        return json.dumps({"op": "join", "room": room})

    def is_joined(self, frame: bytes) -> bool:
        return b'"joined"' in frame and MARK not in frame

    def send(self, room: str, body: str, n: int) -> str:
        return '{"op":"send","room":"%s","body":"%s"}' % (room, body)

    def auto_reply(self, frame: bytes) -> str | None:
        """A protocol-level answer the client owes (socket.io's pong), else None."""
        return None


class HelplineAdapter(Adapter):
    def hello(self, token: str) -> str:
        return json.dumps({"type": "hello", "token": token})

    def is_welcome(self, frame: bytes) -> bool:
        return b'"type":"welcome"' in frame

    def join(self, room: str) -> str:
        return json.dumps({"type": "join", "ticket": room})

    def is_joined(self, frame: bytes) -> bool:
        return frame.startswith(b'{"type":"joined"')

    def send(self, room: str, body: str, n: int) -> str:
        return '{"type":"send","ticket":"%s","client_id":"b%d","body":"%s"}' % (room, n, body)


class SocketIOAdapter(Adapter):
    """Engine.IO 4 over a plain WebSocket: '40' connects the namespace, '42[...]' is an event, '2'/'3' ping/pong."""

    path = "/socket.io/?EIO=4&transport=websocket"

    def hello(self, token: str) -> str:
        return "40" + json.dumps({"token": token})

    def is_welcome(self, frame: bytes) -> bool:
        return frame.startswith(b"40")

    def join(self, room: str) -> str:
        return "42" + json.dumps(["join", room])

    def is_joined(self, frame: bytes) -> bool:
        return frame.startswith(b'42["joined"')

    def send(self, room: str, body: str, n: int) -> str:
        return '42["send",{"room":"%s","body":"%s"}]' % (room, body)

    def auto_reply(self, frame: bytes) -> str | None:
        return "3" if frame == b"2" else None


ADAPTERS: dict[str, Adapter] = {"helpline": HelplineAdapter(), "generic": Adapter(), "socketio": SocketIOAdapter()}
