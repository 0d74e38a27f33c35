"""Hostile input against a running gateway: each case with the answer a client must get.

Whatever is sent, the connection (when the case says so), the node and the writer keep working afterwards.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import jwt
import pytest

from support.core.tokens import issue_token
from tests.fuzz.conftest import ORIGIN
from tests.services import SECRET, Gateway
from tests.wsclient import Client

SCRIPT = "<img src=x onerror=alert(1)><script>alert(2)</script>"
SQL = "'; DROP TABLE messages; --"


def person(plan: str = "free", role: str = "customer", name: str | None = None) -> str:
    return issue_token(SECRET, f"{role}-{uuid.uuid4().hex[:8]}", name or "Hostile", plan, role)


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


async def new_ticket(gateway: Gateway, t: str) -> str:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post("/api/tickets", headers=auth(t), json={"subject": "s", "body": "b"})
        return response.json()["id"]


# Frames answered with an error frame of this code while the connection stays open.
FRAME_CASES = {
    "invalid json": ("{nope", "bad_request"),
    "json array": ("[1,2,3]", "bad_request"),
    "json string": ('"send"', "bad_request"),
    "deep nesting": ('{"type":"send","body":' + "[" * 20000 + "]" * 20000 + "}", "bad_request"),
    "unknown type": ('{"type":"sudo"}', "bad_request"),
    "missing type": ('{"ticket":"x"}', "bad_request"),
    "ticket wrong type": ('{"type":"join","ticket":123}', "bad_request"),
    "since wrong type": ('{"type":"join","ticket":"x","since":"0"}', "bad_request"),
    "since negative": ('{"type":"join","ticket":"x","since":-5}', "bad_request"),
    "since unbounded": ('{"type":"join","ticket":"x","since":99999999999999999999999}', "bad_request"),
    "seq float": ('{"type":"read","ticket":"x","seq":1.5}', "bad_request"),
    "active not bool": ('{"type":"typing","ticket":"x","active":"yes"}', "bad_request"),
    "body not string": ('{"type":"send","ticket":"x","client_id":"c","body":{"a":1}}', "bad_request"),
    "empty body": ('{"type":"send","ticket":"x","client_id":"c","body":""}', "bad_request"),
    "body too long": (
        json.dumps({"type": "send", "ticket": "x", "client_id": "c", "body": "y" * 40_000}),
        "bad_request",
    ),
    "nul in body": ('{"type":"send","ticket":"x","client_id":"c","body":"a\\u0000b"}', "bad_request"),
    "lone surrogate": ('{"type":"send","ticket":"x","client_id":"c","body":"\\ud800"}', "bad_request"),
    "client id too long": (
        json.dumps({"type": "send", "ticket": "x", "client_id": "c" * 500, "body": "b"}),
        "bad_request",
    ),
    "unknown ticket": ('{"type":"join","ticket":"nosuchticket"}', "not_found"),
    "sql in ticket id": (json.dumps({"type": "join", "ticket": SQL}), "not_found"),
    "path in ticket id": ('{"type":"join","ticket":"../../etc/passwd"}', "not_found"),
    "second hello": ('{"type":"hello","token":"x"}', "bad_request"),
    "queue as customer": ('{"type":"queue"}', "forbidden"),
    "typing before join": ('{"type":"typing","ticket":"x","active":true}', "bad_request"),
    "read before join": ('{"type":"read","ticket":"x","seq":1}', "bad_request"),
}


@pytest.mark.parametrize("case", sorted(FRAME_CASES))
async def test_hostile_frame_gets_an_error_and_the_connection_stays(hostile_gateway: Gateway, case: str) -> None:
    raw, code = FRAME_CASES[case]
    client = await Client.connect(hostile_gateway.ws_url, person())
    await client.send(raw)
    error = await client.expect("error")
    assert error["code"] == code, error
    await client.send({"type": "ping"})
    await client.expect("pong")
    await client.close()


async def test_binary_frame_gets_an_error(hostile_gateway: Gateway) -> None:
    client = await Client.connect(hostile_gateway.ws_url, person())
    await client.send(b"\x89PNG\r\n")
    assert (await client.expect("error"))["code"] == "bad_request"
    await client.close()


async def test_oversized_frame_is_closed_1009(hostile_gateway: Gateway) -> None:
    client = await Client.connect(hostile_gateway.ws_url, person())
    await client.send("x" * 70_000)
    assert await client.wait_closed() == 1009


def forged_tokens() -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "mallory", "exp": now + 600, "role": "agent"}
    good = issue_token(SECRET, "mallory", "M")
    return {
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "wrong key": jwt.encode(claims, "not-the-secret-but-long-enough-32b", algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - 5}, SECRET, algorithm="HS256"),
        "tampered payload": good.split(".")[0]
        + "."
        + jwt.utils.base64url_encode(json.dumps({**claims, "role": "admin"}).encode()).decode()
        + "."
        + good.split(".")[2],
        "role escalation": jwt.encode({**claims, "role": "root"}, SECRET, algorithm="HS256"),
        "plan escalation": jwt.encode({**claims, "role": "customer", "plan": "diamond"}, SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
        "HS512": jwt.encode(claims, SECRET, algorithm="HS512"),
    }


@pytest.mark.parametrize("case", sorted(forged_tokens()))
async def test_forged_tokens_close_4401_and_get_401(hostile_gateway: Gateway, case: str) -> None:
    bad = forged_tokens()[case]
    client = await Client.connect(hostile_gateway.ws_url)
    await client.send({"type": "hello", "token": bad})
    assert await client.wait_closed() == 4401
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        response = await http.get("/api/tickets", headers=auth(bad))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


async def test_origin_spoofing_is_refused(hostile_gateway: Gateway) -> None:
    from websockets.exceptions import InvalidStatus

    for origin in ("https://platform.example.evil.com", "null", "http://platform.example"):
        with pytest.raises(InvalidStatus) as refused:
            await Client.connect(hostile_gateway.ws_url, origin=origin)
        assert refused.value.response.status_code == 403
    ok = await Client.connect(hostile_gateway.ws_url, person(), origin=ORIGIN)
    await ok.close()


async def test_foreign_ticket_ids_are_refused_everywhere(hostile_gateway: Gateway) -> None:
    victim = person("premium")
    ticket = await new_ticket(hostile_gateway, victim)
    mallory = person()
    client = await Client.connect(hostile_gateway.ws_url, mallory)
    await client.send({"type": "join", "ticket": ticket})
    await client.send({"type": "send", "ticket": ticket, "client_id": "m1", "body": "hi"})
    await client.send({"type": "read", "ticket": ticket, "seq": 1})
    await client.send({"type": "typing", "ticket": ticket, "active": True})
    await client.send({"type": "ping"})
    await client.expect("pong")
    assert [e["code"] for e in client.of_type("error")] == ["not_found", "not_found", "bad_request", "bad_request"]
    await client.close()
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        assert (await http.get(f"/api/tickets/{ticket}", headers=auth(mallory))).status_code == 404
        assert (
            await http.post(
                f"/api/tickets/{ticket}/messages", headers=auth(mallory), json={"body": "x", "client_id": "m2"}
            )
        ).status_code == 404
        assert (
            await http.patch(f"/api/tickets/{ticket}", headers=auth(mallory), json={"status": "closed"})
        ).status_code == 403
        thread = (await http.get(f"/api/tickets/{ticket}", headers=auth(victim))).json()
    assert [m["seq"] for m in thread["messages"]] == [1]


async def test_customer_cannot_write_internal_notes_or_pose_as_agent(hostile_gateway: Gateway) -> None:
    me = person()
    ticket = await new_ticket(hostile_gateway, me)
    client = await Client.connect(hostile_gateway.ws_url, me)
    await client.join(ticket)
    await client.send({"type": "send", "ticket": ticket, "client_id": "n1", "body": "x", "internal": True})
    assert (await client.expect("error", ref="n1"))["code"] == "forbidden"
    await client.send(
        {
            "type": "send",
            "ticket": ticket,
            "client_id": "n2",
            "body": "I am staff",
            "author": {"id": "agent-alice", "role": "agent"},
            "role": "agent",
        }
    )
    message = await client.expect("message", client_id="n2")
    assert message["author"]["role"] == "customer" and message["author"]["id"] != "agent-alice"
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        response = await http.post(
            f"/api/tickets/{ticket}/messages", headers=auth(me), json={"body": "x", "client_id": "n3", "internal": True}
        )
    assert response.status_code == 403
    await client.close()


async def test_script_and_sql_in_every_text_field_are_stored_as_text(hostile_gateway: Gateway) -> None:
    me = issue_token(SECRET, f"u-{uuid.uuid4().hex[:6]}", SCRIPT, "pro")
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        created = await http.post(
            "/api/tickets",
            headers=auth(me),
            json={
                "subject": SCRIPT + SQL,
                "body": SQL + SCRIPT,
                "page_url": "javascript:alert(1)",
                "context": {"symbol": SCRIPT, SQL: SQL},
                "client_id": SQL,
            },
        )
        assert created.status_code == 201
        ticket = created.json()
        thread = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(me))).json()
    assert thread["ticket"]["subject"] == SCRIPT + SQL and thread["ticket"]["customer"]["name"] == SCRIPT
    assert thread["ticket"]["context"] == {"symbol": SCRIPT, SQL: SQL}
    assert thread["messages"][0]["body"] == SQL + SCRIPT


async def test_nul_in_http_bodies_is_refused_and_the_writer_carries_on(hostile_gateway: Gateway) -> None:
    me = person()
    ticket = await new_ticket(hostile_gateway, me)
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        for body in ({"subject": "a\u0000", "body": "b"}, {"subject": "s", "body": "b", "context": {"k": "\u0000"}}):
            assert (await http.post("/api/tickets", headers=auth(me), json=body)).status_code == 400
        bad = await http.post(
            f"/api/tickets/{ticket}/messages", headers=auth(me), json={"body": "x\u0000y", "client_id": "nul"}
        )
        assert bad.status_code == 400
        good = await http.post(
            f"/api/tickets/{ticket}/messages", headers=auth(me), json={"body": "fine", "client_id": "fine"}
        )
        assert good.status_code == 201 and good.json()["seq"] == 2


async def test_unbounded_pages_are_capped_or_refused(hostile_gateway: Gateway) -> None:
    me = person()
    ticket = await new_ticket(hostile_gateway, me)
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        assert (await http.get("/api/tickets?limit=1000000", headers=auth(me))).status_code == 400
        assert (await http.get("/api/tickets?cursor=-1", headers=auth(me))).status_code == 400
        assert (await http.get(f"/api/tickets?cursor={SQL}", headers=auth(me))).status_code == 400
        capped = await http.get(f"/api/tickets/{ticket}?limit=500000", headers=auth(me))
        assert capped.status_code == 200
        huge = await http.get(f"/api/tickets/{ticket}?after_seq=99999999999999999999", headers=auth(me))
        assert huge.status_code == 400


async def test_slow_loris_handshakes_do_not_block_others(hostile_gateway: Gateway) -> None:
    writers = []
    for _ in range(40):
        _reader, writer = await asyncio.open_connection("127.0.0.1", hostile_gateway.port)
        writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")  # never finished
        await writer.drain()
        writers.append(writer)
    try:
        client = await Client.connect(hostile_gateway.ws_url, person())
        await client.send({"type": "ping"})
        await client.expect("pong")
        await client.close()
    finally:
        for writer in writers:
            writer.close()


async def test_connection_flood_per_user_is_closed_4429(hostile_gateway: Gateway) -> None:
    t = person()
    clients = [await Client.connect(hostile_gateway.ws_url, t) for _ in range(5)]
    extra = await Client.connect(hostile_gateway.ws_url)
    await extra.send({"type": "hello", "token": t})
    assert await extra.wait_closed() == 4429
    for c in clients:
        await c.close()


async def test_the_node_still_serves_after_all_of_this(hostile_gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=hostile_gateway.url) as http:
        assert (await http.get("/readyz")).status_code == 200
    me = person("premium")
    ticket = await new_ticket(hostile_gateway, me)
    client = await Client.connect(hostile_gateway.ws_url, me)
    await client.join(ticket)
    assert (await client.say(ticket, "still here"))["seq"] == 2
    await client.close()
