"""Decoding client frames: one tagged union, clear errors, the client_id carried back as ref."""

from __future__ import annotations

import pytest

from realtime import protocol


def test_every_client_frame_decodes() -> None:
    frames = {
        '{"type":"hello","token":"t"}': protocol.Hello,
        '{"type":"join","ticket":"t1","since":4}': protocol.Join,
        '{"type":"leave","ticket":"t1"}': protocol.Leave,
        '{"type":"send","ticket":"t1","client_id":"c","body":"hi"}': protocol.Send,
        '{"type":"typing","ticket":"t1","active":true}': protocol.Typing,
        '{"type":"read","ticket":"t1","seq":3}': protocol.Read,
        '{"type":"queue"}': protocol.Queue,
        '{"type":"ping"}': protocol.Ping,
    }
    for raw, kind in frames.items():
        assert isinstance(protocol.decode_client_frame(raw), kind)
    join = protocol.decode_client_frame('{"type":"join","ticket":"t1"}')
    assert isinstance(join, protocol.Join) and join.since is None


@pytest.mark.parametrize("raw", [
    "", "nope", "[]", "{}", '{"type":"warp"}', '{"type":"send","ticket":"t","client_id":"c","body":""}',
    '{"type":"join","ticket":""}', '{"type":"read","ticket":"t","seq":-1}', '{"type":"typing","ticket":"t"}',
    '{"type":"send","ticket":"t","client_id":"c","body":"x","internal":"yes"}',
    '{"type":"join","ticket":"' + "x" * 65 + '"}',
])
def test_malformed_frames_are_refused(raw: str) -> None:
    with pytest.raises(protocol.FrameError):
        protocol.decode_client_frame(raw)


def test_error_carries_the_frames_client_id() -> None:
    with pytest.raises(protocol.FrameError) as error:
        protocol.decode_client_frame('{"type":"send","ticket":7,"client_id":"abc","body":"x"}')
    assert error.value.ref == "abc"


def test_message_frame_is_the_message_plus_type() -> None:
    message = protocol.Message("t:2", "t", 2, "c", protocol.User("u", "U", "agent"), "<b>hi</b>", True, "2026-01-01T00:00:00.000Z")
    import json

    frame = json.loads(protocol.message_frame(message).json)
    assert frame == {"type": "message", "id": "t:2", "ticket": "t", "seq": 2, "client_id": "c",
                     "author": {"id": "u", "name": "U", "role": "agent"}, "body": "<b>hi</b>", "internal": True,
                     "created_at": "2026-01-01T00:00:00.000Z"}
