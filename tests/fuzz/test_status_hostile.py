"""Hostile input against a running status page (`helpline statuspage`): every answer is 2xx or 4xx JSON with the
error envelope, never a 5xx and never a text/plain body, and the service keeps serving afterwards.

The short form runs in `make test`; `make fuzz` (HELPLINE_FUZZ=full) runs many more hypothesis examples.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.core.tokens import issue_token
from tests.services import SECRET, Gateway

ADMIN = {"Authorization": f"Bearer {issue_token(SECRET, 'fuzz-ops', 'Ops', role='admin', ttl_s=3600)}"}
DEEP = "[" * 30_000 + "]" * 30_000
GOOD_INCIDENT = {"name": "Chat slow", "status": "investigating", "body": "Looking.", "components": ["support-chat"]}
GOOD_MAINTENANCE = {
    "name": "DB upgrade",
    "body": "Planned.",
    "scheduled_for": "2030-01-01T01:00:00Z",
    "scheduled_until": "2030-01-01T03:00:00Z",
}


def with_(base: dict[str, Any], **fields: Any) -> str:
    return json.dumps({**base, **fields})


# (method, path, raw body) -> (HTTP status, error code)
CASES: dict[str, tuple[str, str, str | bytes, int, str]] = {
    "incident nested 30,000 deep": ("POST", "/api/incidents", '{"name":' + DEEP + "}", 400, "bad_request"),
    "incident deep unknown field": (
        "POST",
        "/api/incidents",
        with_(GOOD_INCIDENT)[:-1] + ',"x":' + DEEP + "}",
        400,
        "bad_request",
    ),
    "component nested 30,000 deep": (
        "PATCH",
        "/api/components/support-chat",
        '{"status":' + DEEP + "}",
        400,
        "bad_request",
    ),
    "component deep unknown field": (
        "PATCH",
        "/api/components/support-chat",
        '{"status":"operational","x":' + DEEP + "}",
        400,
        "bad_request",
    ),
    "update nested deep": ("POST", "/api/incidents/{incident}/updates", '{"x":' + DEEP + "}", 400, "bad_request"),
    "maintenance before year 1 in UTC": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_for="0001-01-01T01:00:00+05:00"),
        400,
        "bad_request",
    ),
    "maintenance after year 9999 in UTC": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_until="9999-12-31T23:00:00-05:00"),
        400,
        "bad_request",
    ),
    "maintenance far past": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_for="1900-01-01T00:00:00Z"),
        400,
        "bad_request",
    ),
    "maintenance not a date": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_for="soon"),
        400,
        "bad_request",
    ),
    "maintenance date as number": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_for=1e308),
        400,
        "bad_request",
    ),
    "maintenance ends before it starts": (
        "POST",
        "/api/maintenances",
        with_(GOOD_MAINTENANCE, scheduled_until="2029-12-31T00:00:00Z"),
        409,  # each date is schema-valid alone, so not 400 (schemathesis: schema-valid request rejected)
        "conflict",
    ),
    "huge integer name": (
        "POST",
        "/api/incidents",
        with_(GOOD_INCIDENT)[:-1] + ',"name":' + "9" * 5000 + "}",
        400,
        "bad_request",
    ),
    "huge float impact": ("POST", "/api/incidents", with_(GOOD_INCIDENT)[:-1] + ',"impact":1e400}', 400, "bad_request"),
    "name wrong type": ("POST", "/api/incidents", with_(GOOD_INCIDENT, name=123), 400, "bad_request"),
    "components not a list": (
        "POST",
        "/api/incidents",
        with_(GOOD_INCIDENT, components="support-chat"),
        400,
        "bad_request",
    ),
    "component list huge": (
        "POST",
        "/api/incidents",
        with_(GOOD_INCIDENT, components=["x"] * 5000),
        400,
        "bad_request",
    ),
    "unknown component": ("POST", "/api/incidents", with_(GOOD_INCIDENT, components=["nope"]), 400, "bad_request"),
    "unknown status": ("POST", "/api/incidents", with_(GOOD_INCIDENT, status="on_fire"), 400, "bad_request"),
    "blank name": ("POST", "/api/incidents", with_(GOOD_INCIDENT, name="   "), 400, "bad_request"),
    "name too long": ("POST", "/api/incidents", with_(GOOD_INCIDENT, name="n" * 301), 400, "bad_request"),
    "nul in body": ("POST", "/api/incidents", with_(GOOD_INCIDENT, body="a\u0000b"), 400, "bad_request"),
    "lone surrogate": ("POST", "/api/incidents", with_(GOOD_INCIDENT)[:-1] + ',"body":"\\ud800"}', 400, "bad_request"),
    "component status wrong type": ("PATCH", "/api/components/support-chat", '{"status":true}', 400, "bad_request"),
    "invalid json": ("POST", "/api/incidents", "{nope", 400, "bad_request"),
    "empty body": ("POST", "/api/incidents", "", 400, "bad_request"),
    "json array": ("PATCH", "/api/components/support-chat", "[1,2]", 400, "bad_request"),
    "binary": ("POST", "/api/maintenances", b"\x89PNG\r\n\x00\xff", 400, "bad_request"),
    "body over 64 KiB": ("POST", "/api/incidents", with_(GOOD_INCIDENT, body="b" * 70_000), 413, "too_large"),
    "maintenance status on an incident": (
        "POST",
        "/api/incidents/{incident}/updates",
        '{"status":"completed","body":"x"}',
        400,
        "bad_request",
    ),
    "nul in incident id": (
        "POST",
        "/api/incidents/a%00b/updates",
        '{"status":"resolved","body":"x"}',
        404,
        "not_found",
    ),
    "long incident id": ("GET", "/api/incidents/" + "a" * 5000, "", 404, "not_found"),
    "unknown component path": ("PATCH", "/api/components/%00", '{"status":"operational"}', 404, "not_found"),
    "unknown route": ("GET", "/api/nothing-here", "", 404, "not_found"),
    "unknown static file": ("GET", "/static/../../etc/passwd", "", 404, "not_found"),
    "method not allowed": ("DELETE", "/api/incidents", "", 405, "bad_request"),
}


@pytest.fixture(scope="module")
def incident(hostile_status: Gateway) -> str:
    created = httpx.post(hostile_status.url + "/api/incidents", headers=ADMIN, json=GOOD_INCIDENT, timeout=10)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def assert_envelope(response: httpx.Response) -> dict[str, str]:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_request_gets_a_4xx_envelope(hostile_status: Gateway, incident: str, case: str) -> None:
    method, path, raw, status, code = CASES[case]
    response = httpx.request(
        method,
        hostile_status.url + path.format(incident=incident),
        content=raw,
        headers={**ADMIN, "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == status, response.text[:300]
    assert assert_envelope(response)["code"] == code


def test_streamed_body_without_length_is_cut_at_the_limit(hostile_status: Gateway) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name":"'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.post(hostile_status.url + "/api/incidents", content=chunks(), headers=ADMIN, timeout=30)
    assert response.status_code == 413 and assert_envelope(response)["code"] == "too_large"


def test_dates_with_offsets_are_stored_in_utc(hostile_status: Gateway) -> None:
    created = httpx.post(
        hostile_status.url + "/api/maintenances",
        headers=ADMIN,
        timeout=10,
        json={
            **GOOD_MAINTENANCE,
            "scheduled_for": "2030-01-01T01:00:00+05:00",
            "scheduled_until": "2030-01-01T03:00:00",
        },
    )
    assert created.status_code == 201, created.text
    window = created.json()
    assert window["scheduled_for"] == "2029-12-31T20:00:00.000Z"
    assert window["scheduled_until"] == "2030-01-01T03:00:00.000Z"  # no zone given: taken as UTC


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.datetimes().map(str),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
FIELDS = ["name", "status", "body", "impact", "components", "scheduled_for", "scheduled_until"]
WRITES = [
    ("POST", "/api/incidents"),
    ("POST", "/api/maintenances"),
    ("PATCH", "/api/components/support-chat"),
    ("POST", "/api/incidents/{incident}/updates"),
]


@st.composite
def near_bodies(draw: st.DrawFn) -> object:
    """Mostly objects with the real field names, so values reach the checks behind the decoder."""
    if draw(st.booleans()):
        return draw(json_values)
    return {
        field: draw(json_values | st.sampled_from(["support-chat", "resolved", "2030-01-01T00:00:00+14:00"]))
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=7))
    }


@given(write=st.sampled_from(WRITES), body=near_bodies())
def test_any_body_to_any_write_is_answered_without_a_server_error(
    hostile_status: Gateway, incident: str, write: tuple[str, str], body: object
) -> None:
    method, path = write
    response = httpx.request(
        method, hostile_status.url + path.format(incident=incident), json=body, headers=ADMIN, timeout=30
    )
    if response.status_code >= 300:
        assert_envelope(response)
    else:
        assert response.headers["content-type"].startswith("application/json")


def test_the_service_still_serves_after_all_of_this(hostile_status: Gateway) -> None:
    status = httpx.get(hostile_status.url + "/api/status", timeout=10)
    assert status.status_code == 200 and status.json()["overall"] in (
        "operational",
        "degraded",
        "partial_outage",
        "major_outage",
    )
    page = httpx.get(hostile_status.url + "/", timeout=10)
    assert page.status_code == 200 and page.headers["x-content-type-options"] == "nosniff"
