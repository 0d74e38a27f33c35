"""Webhooks on a real gateway: signed, each event once, internal notes only where asked, retries, failing."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import httpx

from persistence.webhooks import verify
from tests.integrations.conftest import ADMIN, AGENT, auth, person
from tests.integrations.receiver import Receiver, Received

ALL_EVENTS = ["ticket.created", "ticket.updated", "message.created", "incident.linked"]


def ticket_of(event: dict[str, Any]) -> str | None:
    data = event["data"]
    if "message" in data:
        return data["message"]["ticket"]
    return data["ticket"]["id"] if isinstance(data["ticket"], dict) else data["ticket"]


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def register(http: httpx.AsyncClient, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    response = await http.post("/api/admin/webhooks", headers=auth(ADMIN), json={"url": url, "events": events, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_receiver_gets_each_event_once_with_a_valid_signature(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    public = await register(http, receiver.url, ALL_EVENTS)
    notes = Receiver().start()
    try:
        with_notes = await register(http, notes.url, ["message.created"], include_internal=True)
        _, carol = person("carol", "pro")
        ticket = (
            await http.post(
                "/api/tickets",
                headers=auth(carol),
                json={"subject": "Chart frozen", "body": "The chart froze at 10:02."},
            )
        ).json()
        tid = ticket["id"]
        await http.post(
            f"/api/tickets/{tid}/messages", headers=auth(carol), json={"body": "Still frozen", "client_id": "c2"}
        )
        await http.post(
            f"/api/tickets/{tid}/messages",
            headers=auth(AGENT),
            json={"body": "internal: check feed 7", "client_id": "a3", "internal": True},
        )
        await http.post(
            f"/api/tickets/{tid}/messages", headers=auth(AGENT), json={"body": "Looking into it", "client_id": "a4"}
        )
        patched = await http.patch(
            f"/api/tickets/{tid}", headers=auth(AGENT), json={"status": "pending", "assignee": "agent-alice"}
        )
        assert patched.status_code == 200

        def mine(r: Received) -> bool:
            return ticket_of(r.event) == tid

        expected = {
            ("ticket.created", None),
            ("message.created", 1),
            ("message.created", 2),
            ("message.created", 4),
            ("ticket.updated", None),
        }
        await wait_for(lambda: len(receiver.received(mine)) >= len(expected))
        await wait_for(lambda: len(notes.received(mine)) >= 4)
        await asyncio.sleep(1.0)  # several dispatcher rounds: anything sent twice would have arrived by now

        got = receiver.received(mine)
        kinds = [
            (r.event["type"], r.event["data"]["message"]["seq"] if "message" in r.event["data"] else None) for r in got
        ]
        assert sorted(kinds, key=str) == sorted(expected, key=str)  # each once, and no internal note
        assert len({r.event["id"] for r in got}) == len(got)
        for r in got:
            assert r.headers["Helpline-Event-Id"] == r.event["id"]
            assert r.headers["Helpline-Event-Type"] == r.event["type"]
            assert verify(public["secret"], r.headers["Helpline-Timestamp"], r.body, r.headers["Helpline-Signature"])
            assert not verify(
                "whsec_wrong-secret-000", r.headers["Helpline-Timestamp"], r.body, r.headers["Helpline-Signature"]
            )
        updated = next(r.event for r in got if r.event["type"] == "ticket.updated")["data"]
        assert updated["changes"] == {
            "status": {"old": "open", "new": "pending"},
            "assignee": {"old": None, "new": "agent-alice"},
        }
        assert updated["actor"]["id"] == "agent-alice"

        # The endpoint that asked for internal notes gets the note too, and only message events.
        noted = notes.received(mine)
        assert sorted(r.event["data"]["message"]["seq"] for r in noted) == [1, 2, 3, 4]
        notes_internal = [r.event["data"]["message"]["internal"] for r in noted]
        assert notes_internal.count(True) == 1 and len(notes_internal) == 4
        assert all(
            verify(with_notes["secret"], r.headers["Helpline-Timestamp"], r.body, r.headers["Helpline-Signature"])
            for r in noted
        )

        log = (await http.get(f"/api/admin/webhooks/{public['id']}/deliveries", headers=auth(ADMIN))).json()
        ours = [d for d in log["deliveries"] if d["event_id"] in {r.event["id"] for r in got}]
        assert len(ours) == len(expected)
        assert all(
            d["status"] == "delivered"
            and d["attempts"] == 1
            and d["last_status_code"] == 200
            and d["last_latency_ms"] is not None
            for d in ours
        )
    finally:
        notes.stop()
        for hook in (public, locals().get("with_notes")):
            if hook:
                await http.delete(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN))


async def test_failing_receiver_is_retried_with_backoff_then_marked_failing(http: httpx.AsyncClient) -> None:
    broken = Receiver(status=500).start()
    try:
        hook = await register(http, broken.url, ["ticket.created"])
        _, dan = person("dan")
        tid = (await http.post("/api/tickets", headers=auth(dan), json={"subject": "Lost", "body": "b"})).json()["id"]

        async def state() -> dict[str, Any]:
            return (await http.get(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN))).json()

        deadline = asyncio.get_running_loop().time() + 20
        while not (await state())["failing"]:
            assert asyncio.get_running_loop().time() < deadline, "the endpoint was never marked failing"
            await asyncio.sleep(0.1)

        attempts = [r for r in broken.received() if ticket_of(r.event) == tid]
        assert len(attempts) >= 3
        assert len({r.event["id"] for r in attempts}) == 1  # the same event, retried
        assert [int(r.headers["Helpline-Attempt"]) for r in attempts] == list(range(1, len(attempts) + 1))
        # Backoff: each wait is at least half of base * 2^(n-1) (the jitter takes at most half off), capped.
        gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
        assert all(gap >= min(0.8, 0.2 * 2**n) / 2 - 0.02 for n, gap in enumerate(gaps))

        log = (await http.get(f"/api/admin/webhooks/{hook['id']}/deliveries", headers=auth(ADMIN))).json()
        [delivery] = [d for d in log["deliveries"] if d["event_id"] == attempts[0].event["id"]]
        assert delivery["status"] == "failed" and delivery["attempts"] == len(attempts)
        assert delivery["last_status_code"] == 500

        # A failing endpoint gets nothing new until an admin re-enables it.
        before = len(broken.received())
        await http.post("/api/tickets", headers=auth(dan), json={"subject": "Again", "body": "b"})
        await asyncio.sleep(0.8)
        assert len(broken.received()) == before
        broken.status = 200
        enabled = await http.patch(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN), json={"active": True})
        assert enabled.json()["failing"] is False
        await http.post("/api/tickets", headers=auth(dan), json={"subject": "Once more", "body": "b"})
        await wait_for(lambda: any(r.event["data"]["ticket"]["subject"] == "Once more" for r in broken.received()))
    finally:
        broken.stop()
