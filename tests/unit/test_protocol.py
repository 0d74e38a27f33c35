"""Decoding client frames: one tagged union, clear errors, the client_id carried back as ref."""

from __future__ import annotations

import pytest

from realtime import frames


def test_every_client_frame_decodes() -> None:
    cases = {
        '{"type":"hello","token":"t"}': frames.Hello,
        '{"type":"join","ticket":"t1","since":4}': frames.Join,
        '{"type":"leave","ticket":"t1"}': frames.Leave,
        '{"type":"send","ticket":"t1","client_id":"c","body":"hi"}': frames.Send,
        '{"type":"typing","ticket":"t1","active":true}': frames.Typing,
        '{"type":"read","ticket":"t1","seq":3}': frames.Read,
        '{"type":"queue"}': frames.Queue,
        '{"type":"ping"}': frames.Ping,
    }
    for raw, kind in cases.items():
        assert isinstance(frames.decode_client_frame(raw), kind)
    join = frames.decode_client_frame('{"type":"join","ticket":"t1"}')
    assert isinstance(join, frames.Join) and join.since is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nope",
        "[]",
        "{}",
        '{"type":"warp"}',
        '{"type":"send","ticket":"t","client_id":"c","body":""}',
        '{"type":"join","ticket":""}',
        '{"type":"read","ticket":"t","seq":-1}',
        '{"type":"typing","ticket":"t"}',
        '{"type":"send","ticket":"t","client_id":"c","body":"x","internal":"yes"}',
        '{"type":"join","ticket":"' + "x" * 65 + '"}',
    ],
)
def test_malformed_frames_are_refused(raw: str) -> None:
    with pytest.raises(frames.FrameError):
        frames.decode_client_frame(raw)


def test_error_carries_the_frames_client_id() -> None:
    with pytest.raises(frames.FrameError) as error:
        frames.decode_client_frame('{"type":"send","ticket":7,"client_id":"abc","body":"x"}')
    assert error.value.ref == "abc"


def test_message_frame_is_byte_for_byte_the_encoded_message_frame_struct() -> None:
    """message_frame splices Message's JSON behind the tag: clients must get exactly what encoding the frame gives,
    whatever the body holds (escapes, non-ASCII, a long body whose WebSocket header takes extra length bytes)."""
    import msgspec

    for body, internal in (
        ("hi", False),
        ('"quoted" \\ \n\t <b>', True),
        ("Xin chào 👋", False),
        ("x" * 70_000, False),
    ):
        message = frames.Message(
            "t:9", "t", 9, "c-1", frames.User("u", "Ü", "customer"), body, internal, "2026-01-01T00:00:00.000Z"
        )
        expected = msgspec.json.encode(frames.MessageFrame(**msgspec.structs.asdict(message)))
        frame = frames.message_frame(message)
        assert frame.json == expected
        assert frame.wire == frames.text_frame(expected)


def test_message_frame_is_the_message_plus_type() -> None:
    message = frames.Message(
        "t:2", "t", 2, "c", frames.User("u", "U", "agent"), "<b>hi</b>", True, "2026-01-01T00:00:00.000Z"
    )
    import json

    frame = json.loads(frames.message_frame(message).json)
    assert frame == {
        "type": "message",
        "id": "t:2",
        "ticket": "t",
        "seq": 2,
        "client_id": "c",
        "author": {"id": "u", "name": "U", "role": "agent"},
        "body": "<b>hi</b>",
        "internal": True,
        "created_at": "2026-01-01T00:00:00.000Z",
    }
