"""Incident-aware intake on one gateway node: a draft meets the incident it describes, the customer follows it,
an agent links another ticket, and the resolution reaches every linked ticket once (live and in its history).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.intake.conftest import INTAKE_ENV, StatusPage, auth, token
from support.core.tokens import issue_token
from tests.services import SECRET, Gateway, migrate, sqlite_url
from tests.wsclient import Client

SETTLE_ROUNDS_S = 1.5  # several watcher rounds (0.2 s each): time for a second notice to appear if one would


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("db")
    migrate(sqlite_url(folder))
    return folder / "helpline.db"


@pytest.fixture(scope="module")
def gateway(db_path: Path, status_page: StatusPage) -> Iterator[Gateway]:
    node = Gateway(f"sqlite+aiosqlite:///{db_path}", HELPLINE_STATUS_URL=status_page.url, **INTAKE_ENV).start()
    yield node
    node.stop()


@pytest.fixture
def people() -> dict[str, str]:
    run = uuid.uuid4().hex[:6]
    return {
        "anna": token(f"anna-{run}", "premium", name="Anna"),
        "ben": token(f"ben-{run}", "pro", name="Ben"),
        "carl": token(f"carl-{run}", name="Carl"),
        "alice": token(f"alice-{run}", role="agent", name="Alice"),
    }


async def open_ticket(http: httpx.AsyncClient, who: str, subject: str, body: str, category: str = "bug") -> dict:
    r = await http.post(
        "/api/tickets", headers=auth(who), json={"subject": subject, "body": body, "category": category}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def thread(http: httpx.AsyncClient, who: str, ticket_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/tickets/{ticket_id}?limit=200", headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def notices(history: dict[str, Any], incident_id: str) -> list[dict[str, Any]]:
    return [m for m in history["messages"] if m["client_id"] == f"incident-resolved:{incident_id}"]


async def wait_for_notice(http: httpx.AsyncClient, who: str, ticket_id: str, incident_id: str) -> dict[str, Any]:
    for _ in range(150):
        history = await thread(http, who, ticket_id)
        if notices(history, incident_id):
            return history
        await asyncio.sleep(0.1)
    raise AssertionError(f"no resolution notice on ticket {ticket_id}")


async def test_a_draft_meets_the_active_incident_it_describes(
    gateway: Gateway, status_page: StatusPage, people: dict[str, str]
) -> None:
    charts = status_page.open_incident(
        "Charts not loading", "Some charts stay blank; we are investigating.", ["charts"]
    )
    sign_in = status_page.open_incident("Sign-in slow", "Logging in takes a minute.", ["sign-in"], "minor")
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        r = await http.post(
            "/api/incidents/match",
            headers=auth(people["anna"]),
            json={
                "subject": "My chart is blank",
                "body": "The BTCUSD chart stays blank after a reload.",
                "category": "bug",
            },
        )
        assert r.status_code == 200, r.text
        found = r.json()["incidents"]
        assert found and found[0]["id"] == charts["id"]
        assert found[0]["name"] == "Charts not loading" and found[0]["components"] == ["charts"]
        assert found[0]["status"] == "investigating" and found[0]["impact"] == "major" and found[0]["score"] > 0
        assert sign_in["id"] not in [i["id"] for i in found]

        r = await http.post(
            "/api/incidents/match",
            headers=auth(people["anna"]),
            json={"subject": "Invoice", "body": "Where can I download last month's invoice?", "category": "billing"},
        )
        assert r.status_code == 200 and r.json() == {"incidents": []}

        r = await http.post("/api/incidents/match", json={"subject": "chart", "body": "blank"})
        assert r.status_code == 401
    status_page.resolve(charts["id"], "Fixed.")
    status_page.resolve(sign_in["id"], "Fixed.")
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        r = await http.post(
            "/api/incidents/match",
            headers=auth(people["anna"]),
            json={"subject": "My chart is blank", "body": "The chart stays blank.", "category": "bug"},
        )
        assert charts["id"] not in [i["id"] for i in r.json()["incidents"]]  # resolved: no longer offered


async def test_following_opens_one_linked_ticket_and_reuses_it(
    gateway: Gateway, status_page: StatusPage, people: dict[str, str]
) -> None:
    incident = status_page.open_incident("Alerts delayed", "Alerts fire late.", ["alerts"])
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        draft = {"subject": "My alert did not fire", "body": "BTC crossed 70k and nothing came.", "category": "data"}
        r = await http.post(f"/api/incidents/{incident['id']}/follow", headers=auth(people["anna"]), json=draft)
        assert r.status_code == 201, r.text
        ticket = r.json()
        assert ticket["subject"] == "Following: Alerts delayed" and ticket["category"] == "data"
        assert ticket["incident"] == incident["id"] and ticket["plan"] == "premium"
        again = await http.post(f"/api/incidents/{incident['id']}/follow", headers=auth(people["anna"]), json=draft)
        assert again.status_code == 200 and again.json()["id"] == ticket["id"]

        history = await thread(http, people["anna"], ticket["id"])
        assert history["ticket"]["incident"] == incident["id"]
        assert [m["body"] for m in history["messages"]] == ["BTC crossed 70k and nothing came."]
        listed = (await http.get("/api/tickets", headers=auth(people["anna"]))).json()["tickets"]
        assert [t["id"] for t in listed] == [ticket["id"]]  # one ticket, however often followed

        agent = await http.post(f"/api/incidents/{incident['id']}/follow", headers=auth(people["alice"]), json={})
        assert agent.status_code == 403
        missing = await http.post("/api/incidents/nosuchincident/follow", headers=auth(people["ben"]), json={})
        assert missing.status_code == 404
    status_page.resolve(incident["id"], "Alerts are on time again.")
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        late = await http.post(f"/api/incidents/{incident['id']}/follow", headers=auth(people["ben"]), json={})
        assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"


async def test_following_without_words_writes_the_customer_s_language(
    gateway: Gateway, status_page: StatusPage
) -> None:
    incident = status_page.open_incident("Chart data delayed", "Charts lag.", ["charts"])
    run = uuid.uuid4().hex[:6]
    by_claim = issue_token(SECRET, f"lan-{run}", "Lan", "pro", "customer", locale="vi")
    by_header = issue_token(SECRET, f"minh-{run}", "Minh", "pro", "customer")
    followed: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        for who, headers in ((by_claim, {}), (by_header, {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})):
            r = await http.post(
                f"/api/incidents/{incident['id']}/follow", headers={**auth(who), **headers}, json={"body": " "}
            )
            assert r.status_code == 201, r.text
            assert r.json()["subject"] == "Theo dõi: Chart data delayed"
            history = await thread(http, who, r.json()["id"])
            assert [m["body"] for m in history["messages"]] == [
                "Tôi bị ảnh hưởng bởi sự cố này và muốn được báo khi sự cố được khắc phục."
            ]
            followed.append((who, r.json()["id"]))
    status_page.resolve(incident["id"], "Charts are current again.")
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        for who, ticket_id in followed:  # the resolution notice speaks the follower's language too
            [notice] = notices(await wait_for_notice(http, who, ticket_id, incident["id"]), incident["id"])
            assert notice["body"].startswith("Đã khắc phục: “Chart data delayed”."), notice["body"]


async def test_agents_and_owners_link_tickets_others_cannot(
    gateway: Gateway, status_page: StatusPage, people: dict[str, str]
) -> None:
    incident = status_page.open_incident("Quotes frozen", "Real-time quotes stopped updating.", ["data-feeds"])
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        ticket = await open_ticket(http, people["ben"], "Prices stuck", "EURUSD has not moved for 10 minutes.")
        assert ticket["incident"] is None
        stranger = await http.post(
            f"/api/tickets/{ticket['id']}/incident", headers=auth(people["carl"]), json={"incident_id": incident["id"]}
        )
        assert stranger.status_code == 404
        unknown = await http.post(
            f"/api/tickets/{ticket['id']}/incident",
            headers=auth(people["alice"]),
            json={"incident_id": "nosuchincident"},
        )
        assert unknown.status_code == 404
        linked = await http.post(
            f"/api/tickets/{ticket['id']}/incident", headers=auth(people["alice"]), json={"incident_id": incident["id"]}
        )
        assert linked.status_code == 200 and linked.json()["incident"] == incident["id"]
        assert (await thread(http, people["ben"], ticket["id"]))["ticket"]["incident"] == incident["id"]
        listed = (await http.get("/api/tickets", headers=auth(people["ben"]))).json()["tickets"]
        assert [t["incident"] for t in listed if t["id"] == ticket["id"]] == [incident["id"]]
        unlinked = await http.post(
            f"/api/tickets/{ticket['id']}/incident", headers=auth(people["ben"]), json={"incident_id": None}
        )
        assert unlinked.status_code == 200 and unlinked.json()["incident"] is None
        assert (await thread(http, people["alice"], ticket["id"]))["ticket"]["incident"] is None
    status_page.resolve(incident["id"], "Quotes flow again.")


async def test_resolution_reaches_every_linked_ticket_once_live_and_in_history(
    gateway: Gateway, status_page: StatusPage, people: dict[str, str]
) -> None:
    incident = status_page.open_incident("Order entry failing", "Orders are rejected by one broker.", ["trading"])
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        followed = (
            await http.post(
                f"/api/incidents/{incident['id']}/follow",
                headers=auth(people["anna"]),
                json={"subject": "Order rejected", "body": "My limit order was rejected.", "category": "bug"},
            )
        ).json()
        linked = await open_ticket(http, people["ben"], "Cannot place orders", "Every order fails.")
        r = await http.post(
            f"/api/tickets/{linked['id']}/incident", headers=auth(people["alice"]), json={"incident_id": incident["id"]}
        )
        assert r.status_code == 200
        unrelated = await open_ticket(http, people["carl"], "Cannot place orders either", "Orders fail for me too.")

        anna = await Client.connect(gateway.ws_url, people["anna"])
        ben = await Client.connect(gateway.ws_url, people["ben"])
        carl = await Client.connect(gateway.ws_url, people["carl"])
        alice = await Client.connect(gateway.ws_url, people["alice"])
        await anna.join(followed["id"])
        await ben.join(linked["id"])
        await carl.join(unrelated["id"])
        await alice.send({"type": "queue"})
        await alice.expect("queue")

        status_page.resolve(incident["id"], "Orders go through again.")

        client_id = f"incident-resolved:{incident['id']}"
        for client, ticket in ((anna, followed), (ben, linked)):
            live = await client.expect("message", timeout=20, ticket=ticket["id"], client_id=client_id)
            assert live["author"] == {"id": "system", "name": "Helpline", "role": "system"}
            assert live["internal"] is False and "Order entry failing" in live["body"]
            assert "Orders go through again." in live["body"] and live["seq"] == 2
        change = await alice.expect("ticket", timeout=10)
        assert change["ticket"]["id"] in (followed["id"], linked["id"])
        assert change["ticket"]["incident"] == incident["id"] and change["ticket"]["last_seq"] == 2

        await asyncio.sleep(SETTLE_ROUNDS_S)
        for who, ticket in ((people["anna"], followed), (people["ben"], linked)):
            history = await thread(http, who, ticket["id"])  # what the customer's Support tab shows
            assert len(notices(history, incident["id"])) == 1
            assert [m["seq"] for m in history["messages"]] == [1, 2]
        assert len(anna.of_type("message", client_id=client_id)) == 1
        assert len(ben.of_type("message", client_id=client_id)) == 1
        assert not carl.of_type("message")
        assert [m["seq"] for m in (await thread(http, people["carl"], unrelated["id"]))["messages"]] == [1]
        for client in (anna, ben, carl, alice):
            await client.close()


async def test_a_restart_does_not_repeat_the_notice(
    gateway: Gateway, status_page: StatusPage, db_path: Path, people: dict[str, str]
) -> None:
    incident = status_page.open_incident("Layouts not saving", "Saved layouts fail to load.", ["charts"])
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        r = await http.post(
            f"/api/incidents/{incident['id']}/follow",
            headers=auth(people["anna"]),
            json={"subject": "Layout gone", "body": "My layout did not load."},
        )
        ticket = r.json()
        status_page.resolve(incident["id"], "Layouts load again.")
        await wait_for_notice(http, people["anna"], ticket["id"], incident["id"])

    # A node that died after committing the notice but before recording it: the link looks pending again.
    gateway.stop()
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE ticket_incidents SET notified_at = NULL WHERE ticket_id = ?", (ticket["id"],))
    gateway.start()
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        for _ in range(100):  # the restarted watcher takes the link up again and records it as told
            with sqlite3.connect(db_path) as db:
                (notified,) = db.execute(
                    "SELECT notified_at FROM ticket_incidents WHERE ticket_id = ?", (ticket["id"],)
                ).fetchone()
            if notified is not None:
                break
            await asyncio.sleep(0.1)
        assert notified is not None
        await asyncio.sleep(SETTLE_ROUNDS_S)
        history = await thread(http, people["anna"], ticket["id"])
        assert len(notices(history, incident["id"])) == 1 and len(history["messages"]) == 2
