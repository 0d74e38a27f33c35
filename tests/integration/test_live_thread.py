"""The live ticket thread end to end on one node: two customers, two agents, real WebSockets and HTTP."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.integration.conftest import token
from tests.services import Gateway
from tests.wsclient import Client


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


async def open_ticket(gateway: Gateway, customer_token: str, subject: str = "Chart does not load") -> dict:
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.post(
            "/api/tickets",
            headers=auth(customer_token),
            json={
                "subject": subject,
                "body": "The BTCUSD chart stays blank.",
                "category": "bug",
                "page_url": "https://platform.example/chart",
                "context": {"symbol": "BTCUSD", "timeframe": "1h"},
            },
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def people() -> dict[str, str]:
    run = uuid.uuid4().hex[:6]
    return {
        "anna": token(f"anna-{run}", "premium", name="Anna"),
        "ben": token(f"ben-{run}", "free", name="Ben"),
        "alice": token(f"alice-{run}", role="agent", name="Alice"),
        "bob": token(f"bob-{run}", role="agent", name="Bob"),
    }


async def test_customer_and_agents_talk_live(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    assert ticket["plan"] == "premium" and ticket["priority"] == 1 and ticket["first_response_due"]
    anna = await Client.connect(gateway.ws_url, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    bob = await Client.connect(gateway.ws_url, people["bob"])
    joined = await anna.join(ticket["id"])
    assert joined["last_seq"] == 1 and [m["body"] for m in joined["messages"]] == ["The BTCUSD chart stays blank."]
    await alice.join(ticket["id"])
    await bob.join(ticket["id"])

    ack = await anna.say(ticket["id"], "Still blank after a reload")
    assert ack["seq"] == 2 and ack["ticket"] == ticket["id"]
    for client in (anna, alice, bob):
        message = await client.expect("message", seq=2)
        assert message["body"] == "Still blank after a reload" and message["author"]["role"] == "customer"

    await alice.say(ticket["id"], "Looking into it now")
    got = await anna.expect("message", seq=3)
    assert got["author"]["name"] == "Alice" and got["body"] == "Looking into it now"
    for client in (anna, alice, bob):
        await client.close()


async def test_ack_comes_before_the_senders_own_message(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    await anna.join(ticket["id"])
    await anna.say(ticket["id"], "order check", client_id="order-1")
    await anna.expect("message", client_id="order-1")
    kinds = [f["type"] for f in anna.frames if f.get("client_id") == "order-1"]
    assert kinds == ["ack", "message"]
    await anna.close()


async def test_repeated_client_id_is_acked_again_and_delivered_once(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    await anna.join(ticket["id"])
    await alice.join(ticket["id"])
    first = await anna.say(ticket["id"], "only once", client_id="dup-1")
    second = await anna.say(ticket["id"], "only once", client_id="dup-1")
    assert first["seq"] == second["seq"] == 2 and first["id"] == second["id"]
    await anna.say(ticket["id"], "after", client_id="dup-2")
    await alice.expect("message", client_id="dup-2")
    assert len(alice.of_type("message", client_id="dup-1")) == 1
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        thread = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(people["anna"]))).json()
    assert [m["seq"] for m in thread["messages"]] == [1, 2, 3]
    await anna.close()
    await alice.close()


async def test_typing_presence_and_read_are_relayed(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    await alice.join(ticket["id"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    joined = await anna.join(ticket["id"])
    assert [u["name"] for u in joined["presence"]] == ["Alice", "Anna"] or sorted(
        u["name"] for u in joined["presence"]
    ) == ["Alice", "Anna"]
    online = await alice.expect("presence", online=True)
    assert online["user"]["name"] == "Anna"

    await anna.send({"type": "typing", "ticket": ticket["id"], "active": True})
    typing = await alice.expect("typing", active=True)
    assert typing["user"]["name"] == "Anna"
    # Not renewed: it ends by itself after the typing TTL (1.5 s in these tests).
    stopped = await alice.expect("typing", active=False, timeout=5)
    assert stopped["user"]["name"] == "Anna"
    assert not anna.of_type("typing")

    await alice.send({"type": "read", "ticket": ticket["id"], "seq": 1})
    read = await anna.expect("read")
    assert read["seq"] == 1 and read["user"]["name"] == "Alice"

    await anna.close()
    offline = await alice.expect("presence", online=False)
    assert offline["user"]["name"] == "Anna"
    await alice.close()


async def test_internal_note_never_reaches_customer(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    bob = await Client.connect(gateway.ws_url, people["bob"])
    for c in (anna, alice, bob):
        await c.join(ticket["id"])
    await alice.send({"type": "typing", "ticket": ticket["id"], "active": True, "internal": True})
    await bob.expect("typing", active=True)
    note = await alice.say(ticket["id"], "Customer is on the legacy feed", internal=True)
    assert note["seq"] == 2
    assert (await bob.expect("message", seq=2))["internal"] is True
    await alice.say(ticket["id"], "Fixed, please reload")
    public = await anna.expect("message", seq=3)
    assert public["body"] == "Fixed, please reload"
    assert all(f.get("seq") != 2 and "legacy feed" not in str(f) for f in anna.frames)
    assert not anna.of_type("typing")

    rejoined = await Client.connect(gateway.ws_url, people["anna"])
    joined = await rejoined.join(ticket["id"], since=0)
    assert [m["seq"] for m in joined["messages"]] == [1, 3] and joined["last_seq"] == 3
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        mine = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(people["anna"]))).json()
        theirs = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(people["alice"]))).json()
    assert [m["seq"] for m in mine["messages"]] == [1, 3]
    assert [m["seq"] for m in theirs["messages"]] == [1, 2, 3]

    await anna.send({"type": "send", "ticket": ticket["id"], "client_id": "sneaky", "body": "x", "internal": True})
    error = await anna.expect("error", ref="sneaky")
    assert error["code"] == "forbidden"
    for c in (anna, alice, bob, rejoined):
        await c.close()


async def test_foreign_tickets_are_refused(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    ben = await Client.connect(gateway.ws_url, people["ben"])
    await ben.send({"type": "join", "ticket": ticket["id"]})
    assert (await ben.expect("error"))["code"] == "not_found"
    await ben.send({"type": "send", "ticket": ticket["id"], "client_id": "c1", "body": "hi"})
    assert (await ben.expect("error", ref="c1"))["code"] == "not_found"
    await ben.send({"type": "typing", "ticket": ticket["id"], "active": True})
    assert (await ben.expect("error"))["code"] == "bad_request"
    await ben.send({"type": "queue"})
    assert (await ben.expect("error"))["code"] == "forbidden"
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        assert (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(people["ben"]))).status_code == 404
        response = await http.post(
            f"/api/tickets/{ticket['id']}/messages", headers=auth(people["ben"]), json={"body": "hi", "client_id": "c2"}
        )
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        listed = (await http.get("/api/tickets", headers=auth(people["ben"]))).json()
        assert all(t["id"] != ticket["id"] for t in listed["tickets"])
    await ben.send({"type": "ping"})
    await ben.expect("pong")
    await ben.close()


async def test_malformed_frames_are_answered_and_the_connection_stays(gateway: Gateway, people: dict[str, str]) -> None:
    ben = await Client.connect(gateway.ws_url, people["ben"])
    bad = [
        "not json",
        "[]",
        '{"type":"teleport"}',
        '{"type":"send","ticket":5,"client_id":"t1","body":"x"}',
        '{"type":"join"}',
        '{"type":"read","ticket":"x","seq":-1}',
        '{"type":"send","ticket":"x","client_id":"e1"}',
    ]
    for raw in bad:
        await ben.send(raw)
    await ben.send(b"\x00\x01binary")
    await ben.send({"type": "ping"})
    await ben.expect("pong")
    errors = ben.of_type("error")
    assert len(errors) == len(bad) + 1 and all(e["code"] == "bad_request" for e in errors)
    assert {e.get("ref") for e in errors} >= {"t1", "e1"}
    await ben.close()


async def test_oversized_frame_closes_1009(gateway: Gateway, people: dict[str, str]) -> None:
    ben = await Client.connect(gateway.ws_url, people["ben"])
    await ben.send({"type": "ping", "pad": "x" * (65 * 1024)})
    assert await ben.wait_closed() == 1009


async def test_silent_connection_and_bad_tokens_close_4401(gateway: Gateway, people: dict[str, str]) -> None:
    silent = await Client.connect(gateway.ws_url)
    assert await silent.wait_closed() == 4401
    forged = await Client.connect(gateway.ws_url)
    await forged.send({"type": "hello", "token": people["ben"][:-4] + "AAAA"})
    assert await forged.wait_closed() == 4401
    early = await Client.connect(gateway.ws_url)
    await early.send({"type": "ping"})
    assert await early.wait_closed() == 4401


async def test_origin_not_allowed_is_refused_at_handshake(gateway: Gateway, people: dict[str, str]) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        await Client.connect(gateway.ws_url, people["ben"], origin="https://evil.example")
    assert refused.value.response.status_code == 403
    allowed = await Client.connect(gateway.ws_url, people["ben"], origin="https://platform.example")
    await allowed.close()


async def test_rejoin_with_since_gets_every_missed_message_once(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    await anna.join(ticket["id"])
    await alice.join(ticket["id"])
    await alice.say(ticket["id"], "m2")
    seen = (await anna.expect("message", seq=2))["seq"]
    await anna.close()
    for i in range(3, 8):
        await alice.say(ticket["id"], f"m{i}", internal=(i == 5))
    back = await Client.connect(gateway.ws_url, people["anna"])
    joined = await back.join(ticket["id"], since=seen)
    assert [m["seq"] for m in joined["messages"]] == [3, 4, 6, 7] and joined["last_seq"] == 7
    await alice.say(ticket["id"], "m8")
    assert (await back.expect("message"))["seq"] == 8
    await back.close()
    await alice.close()


async def test_a_join_behind_the_hello_is_answered_after_the_welcome(gateway: Gateway, people: dict[str, str]) -> None:
    """The widget resumes in one round trip: hello and its joins leave together, before any welcome."""
    ticket = await open_ticket(gateway, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    await alice.join(ticket["id"])
    await alice.say(ticket["id"], "m2")
    await alice.say(ticket["id"], "m3")
    anna = await Client.connect(gateway.ws_url)
    await anna.send({"type": "hello", "token": people["anna"]})
    await anna.send({"type": "join", "ticket": ticket["id"], "since": 1})
    joined = await anna.expect("joined")
    assert anna.frames[0]["type"] == "welcome"  # the hello is answered first, then the join behind it
    assert [m["body"] for m in joined["messages"]] == ["m2", "m3"] and joined["last_seq"] == 3
    await alice.expect("presence", online=True)

    refused = await Client.connect(gateway.ws_url)  # a refused hello: the join behind it is never handled
    await refused.send({"type": "hello", "token": people["ben"][:-4] + "AAAA"})
    await refused.send({"type": "join", "ticket": ticket["id"], "since": 1})
    assert await refused.wait_closed() == 4401
    assert [f["type"] for f in refused.frames] == []
    await anna.close()
    await alice.close()


async def test_concurrent_sends_get_one_gapless_order_for_everyone(gateway: Gateway, people: dict[str, str]) -> None:
    ticket = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    alice = await Client.connect(gateway.ws_url, people["alice"])
    bob = await Client.connect(gateway.ws_url, people["bob"])
    for c in (anna, alice, bob):
        await c.join(ticket["id"])

    async def burst(client: Client, name: str) -> list[int]:
        ids = [f"{name}-{i}" for i in range(60)]
        for cid in ids:
            await client.send({"type": "send", "ticket": ticket["id"], "client_id": cid, "body": cid})
        return [(await client.expect("ack", client_id=cid, timeout=20))["seq"] for cid in ids]

    acked = await asyncio.gather(burst(anna, "anna"), burst(alice, "alice"))
    assert sorted(acked[0] + acked[1]) == list(range(2, 122))
    orders = []
    for c in (anna, alice, bob):
        await c.until(lambda frames: sum(f["type"] == "message" for f in frames) >= 120, timeout=20)
        orders.append([(f["seq"], f["client_id"]) for f in c.of_type("message")])
    assert orders[0] == orders[1] == orders[2]
    assert [seq for seq, _ in orders[0]] == list(range(2, 122))
    for c in (anna, alice, bob):
        await c.close()


async def test_agents_queue_is_live(gateway: Gateway, people: dict[str, str]) -> None:
    alice = await Client.connect(gateway.ws_url, people["alice"])
    await alice.send({"type": "queue"})
    snapshot = await alice.expect("queue")
    assert isinstance(snapshot["tickets"], list)
    ticket = await open_ticket(gateway, people["ben"], "Alerts do not fire")
    await alice.until(lambda frames: any(f["type"] == "ticket" and f["ticket"]["id"] == ticket["id"] for f in frames))
    pushed = [f for f in alice.of_type("ticket") if f["ticket"]["id"] == ticket["id"]][0]
    assert pushed["ticket"]["plan"] == "free" and pushed["ticket"]["status"] == "open"
    assert pushed["ticket"]["first_response_due"] is None
    await alice.close()


async def test_customer_is_told_of_changes_to_their_own_tickets_only(gateway: Gateway, people: dict[str, str]) -> None:
    mine = await open_ticket(gateway, people["anna"])
    anna = await Client.connect(gateway.ws_url, people["anna"])
    ben = await Client.connect(gateway.ws_url, people["ben"])
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        response = await http.patch(
            f"/api/tickets/{mine['id']}", headers=auth(people["alice"]), json={"status": "solved"}
        )
        assert response.status_code == 200
    pushed = await anna.expect("ticket")
    assert pushed["ticket"]["id"] == mine["id"] and pushed["ticket"]["status"] == "solved"
    await ben.send({"type": "ping"})
    await ben.expect("pong")
    assert not ben.of_type("ticket")
    await anna.close()
    await ben.close()
