"""Property tests: every frame decoder and HTTP body decoder answers any input with a value or a clear refusal."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from support.tickets import routes
from realtime import frames
from statuspage import bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
FRAME_TYPES = ["hello", "join", "leave", "send", "typing", "read", "queue", "ping", "pong", "", "SEND"]
FIELDS = ["token", "ticket", "since", "client_id", "body", "internal", "active", "seq", "type"]


@st.composite
def near_frames(draw: st.DrawFn) -> dict:
    frame = {"type": draw(st.sampled_from(FRAME_TYPES))}
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=6)):
        frame[field] = draw(json_values)
    return frame


@given(json_values)
def test_any_json_value_is_a_frame_or_a_frame_error(value: object) -> None:
    raw = json.dumps(value)
    try:
        frame = frames.decode_client_frame(raw)
    except frames.FrameError:
        return
    assert isinstance(
        frame,
        (frames.Hello, frames.Join, frames.Leave, frames.Send, frames.Typing, frames.Read, frames.Queue, frames.Ping),
    )


@given(near_frames())
def test_near_valid_frames_decode_to_valid_values_or_refuse(frame: dict) -> None:
    try:
        decoded = frames.decode_client_frame(json.dumps(frame))
    except frames.FrameError:
        return
    if isinstance(decoded, frames.Send):
        assert 1 <= len(decoded.body) <= 32_000 and "\x00" not in decoded.body
        assert isinstance(decoded.internal, bool)
    if isinstance(decoded, (frames.Join,)) and decoded.since is not None:
        assert 0 <= decoded.since <= 2**53


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_another_exception(raw: bytes) -> None:
    try:
        frames.decode_client_frame(raw)
    except frames.FrameError:
        pass


@given(st.sampled_from([routes.NewTicketBody, routes.NewMessageBody, routes.TicketPatch]), json_values)
def test_http_bodies_decode_or_refuse(kind: type, value: object) -> None:
    try:
        msgspec.json.decode(json.dumps(value).encode(), type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass


def test_deep_nesting_is_refused_not_crashed() -> None:
    deep = '{"type":"send","ticket":"t","client_id":"c","body":' + "[" * 30000 + "]" * 30000 + "}"
    try:
        frames.decode_client_frame(deep)
    except frames.FrameError as error:
        assert error.ref is None
    else:
        raise AssertionError("a deeply nested frame was accepted")


STATUS_BODIES = [bodies.NewIncident, bodies.NewUpdate, bodies.NewMaintenance, bodies.ComponentChange]


@given(st.sampled_from(STATUS_BODIES), json_values)
def test_status_page_bodies_decode_to_bounded_values_or_refuse(kind: type, value: object) -> None:
    try:
        decoded = msgspec.json.decode(json.dumps(value).encode(), type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return
    for text in (getattr(decoded, "name", ""), getattr(decoded, "body", "")):
        assert len(text) <= 10_000 and "\x00" not in text
    assert len(getattr(decoded, "components", None) or []) <= 100


offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))


@given(st.datetimes(timezones=st.none() | offsets.map(timezone)))
def test_any_date_is_a_utc_moment_in_range_or_a_refusal(value: datetime) -> None:
    """Every datetime msgspec can decode, datetime.min and max with any offset included: never an OverflowError."""
    try:
        moment = bodies.utc_in_range("scheduled_for", value)
    except bodies.BodyError as refused:
        assert refused.code == "bad_request"
        return
    assert moment.utcoffset() == timedelta(0) and bodies.EARLIEST <= moment <= bodies.LATEST


whole_minutes = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


@given(st.from_regex(bodies.DATE_TIME, fullmatch=True))
def test_every_date_the_document_allows_is_accepted(text: str) -> None:
    """The OpenAPI document's date-time pattern allows nothing the decoder or the range check refuses."""
    moment = bodies.utc_in_range("scheduled_for", msgspec.json.decode(json.dumps(text), type=bodies.Moment))
    assert bodies.EARLIEST <= moment <= bodies.LATEST


@given(
    st.datetimes(
        min_value=datetime(2001, 1, 1),
        max_value=datetime(2198, 12, 31),
        timezones=st.none() | whole_minutes.map(lambda m: timezone(timedelta(minutes=m))),  # RFC 3339 offsets
    )
)
def test_every_ordinary_date_in_range_matches_the_pattern(value: datetime) -> None:
    """What clients send (isoformat, with or without a zone) is allowed by the document, 29 February included."""
    assert re.match(bodies.DATE_TIME, value.isoformat()), value.isoformat()


async def test_status_page_deep_nesting_is_refused_not_crashed() -> None:
    deep = ('{"status":"operational","x":' + "[" * 30000 + "]" * 30000 + "}").encode()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": deep, "more_body": False}

    request = Request({"type": "http", "method": "PATCH", "path": "/", "headers": []}, receive)
    try:
        await bodies.read_body(request, bodies.ComponentChange)
    except bodies.BodyError as refused:
        assert (refused.code, refused.status) == ("bad_request", 400)
    else:
        raise AssertionError("a deeply nested body was accepted")
