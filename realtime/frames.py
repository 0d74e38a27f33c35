"""Every WebSocket frame of contract §4 as msgspec Structs: one tagged union each way.

Frames are decoded once, at the edge; nothing past here sees raw JSON.
"""

from __future__ import annotations

import struct
from typing import Annotated, Any, Union

import msgspec

from support.core.model import Body, ClientId, Message, Seq, TicketId, TicketView, User
from support.incidents.status_client import StatusIncident


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=False):
    token: Annotated[str, msgspec.Meta(max_length=8192)]


class Join(msgspec.Struct, tag="join"):
    ticket: TicketId
    since: Seq | None = None


class Leave(msgspec.Struct, tag="leave"):
    ticket: TicketId


class Send(msgspec.Struct, tag="send"):
    ticket: TicketId
    client_id: ClientId
    body: Body
    internal: bool = False


class Typing(msgspec.Struct, tag="typing"):
    ticket: TicketId
    active: bool
    internal: bool = False  # typing an internal note: shown to agents only


class Read(msgspec.Struct, tag="read"):
    ticket: TicketId
    seq: Seq


class Queue(msgspec.Struct, tag="queue"):
    pass


class Ping(msgspec.Struct, tag="ping"):
    pass


ClientFrame = Union[Hello, Join, Leave, Send, Typing, Read, Queue, Ping]


# Server → client frames. `message` is encoded from Message plus the tag, once per message per node.
class WelcomeUser(msgspec.Struct):
    id: str
    name: str
    role: str
    plan: str


class Welcome(msgspec.Struct, tag="welcome"):
    user: WelcomeUser
    heartbeat_s: float


class Joined(msgspec.Struct, tag="joined"):
    ticket: str
    last_seq: int
    messages: list[Message]
    presence: list[User]
    read: dict[str, int] = {}


class Ack(msgspec.Struct, tag="ack"):
    client_id: str
    ticket: str
    id: str
    seq: int


class MessageFrame(Message, tag="message", frozen=True):
    pass


class TypingFrame(msgspec.Struct, tag="typing"):
    ticket: str
    user: User
    active: bool


class ReadFrame(msgspec.Struct, tag="read"):
    ticket: str
    user: User
    seq: int


class PresenceFrame(msgspec.Struct, tag="presence"):
    ticket: str
    user: User
    online: bool


class QueueFrame(msgspec.Struct, tag="queue"):
    tickets: list[TicketView]


class TicketFrame(msgspec.Struct, tag="ticket"):
    ticket: TicketView


class StatusFrame(msgspec.Struct, tag="status"):
    """*Extension*: the status page's state, pushed to every connection when it changes (and after `welcome`)."""

    overall: str
    incidents: list[StatusIncident]  # active, newest first, each with its latest updates
    maintenances: list[StatusIncident]  # scheduled or in progress


class AgentFrame(msgspec.Struct, tag="agent"):
    """An agent's status changed (to queue watchers): `online` from presence, `away` and `capacity` when the agent
    set them (None in a presence change: the frame then says only whether they are online)."""

    agent: User
    online: bool
    away: bool | None = None
    capacity: int | None = None


class Pong(msgspec.Struct, tag="pong"):
    pass


class Heartbeat(msgspec.Struct, tag="heartbeat"):
    pass


class Error(msgspec.Struct, tag="error", omit_defaults=True):
    code: str
    message: str
    ref: str | None = None
    reason: str | None = None  # TicketError.reason, e.g. `ticket_closed` (docs/protocol.md)


class _RefProbe(msgspec.Struct):
    client_id: Any = None


_decoder = msgspec.json.Decoder(ClientFrame)
_probe = msgspec.json.Decoder(_RefProbe)
_encoder = msgspec.json.Encoder()


class FrameError(Exception):
    def __init__(self, message: str, ref: str | None) -> None:
        super().__init__(message)
        self.ref = ref


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """Decode one client frame; a FrameError carries the frame's client_id (when it had one) as ref."""
    try:
        return _decoder.decode(raw)
    except RecursionError:
        raise FrameError("JSON is nested too deeply", None) from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        ref = None
        try:
            probe = _probe.decode(raw)
            if isinstance(probe.client_id, str):
                ref = probe.client_id[:128]
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            pass
        raise FrameError(str(exc), ref) from None


def text_frame(payload: bytes) -> bytes:
    """A complete, final, unmasked server text frame (RFC 6455 §5.2) around a UTF-8 payload."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Outgoing:
    """One server frame, encoded once per node: its JSON, and the complete WebSocket frame around it.

    Every recipient on the node is handed the same object; a connection writes `wire` straight to its socket, or
    sends `json` as text through ASGI under a server that cannot take raw frames (realtime/server.py)."""

    __slots__ = ("json", "wire")

    def __init__(self, json: bytes) -> None:
        self.json = json
        self.wire = text_frame(json)

    @property
    def text(self) -> str:
        return self.json.decode()


def encode(frame: msgspec.Struct) -> Outgoing:
    return Outgoing(_encoder.encode(frame))


_MESSAGE_TAG = b'{"type":"message",'  # what MessageFrame's encoding starts with: its tag, then Message's fields


def message_frame(message: Message) -> Outgoing:
    """The `message` frame, byte for byte what encoding MessageFrame gives (tests/unit/test_protocol.py checks it).

    Built once per message on every node a room spans, so it is spliced: Message's own JSON with the tag put in
    front, instead of copying the message into a MessageFrame first (a dict and a new struct, about half the cost
    of the frame)."""
    return Outgoing(_MESSAGE_TAG + _encoder.encode(message)[1:])
