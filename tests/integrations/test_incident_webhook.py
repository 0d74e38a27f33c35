"""`incident.linked` on a real gateway beside a real status page: the link reaches subscribed endpoints once,
and an agent's link is audited."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from persistence.webhooks import verify
from tests.intake.conftest import INTAKE_ENV, StatusPage
from tests.integrations.conftest import ADMIN, AGENT, GATEWAY_ENV, auth, person
from tests.integrations.receiver import Receiver
from tests.services import Gateway, migrate, sqlite_url


@pytest.fixture(scope="module")
def status_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StatusPage]:
    page = StatusPage(tmp_path_factory.mktemp("status")).start()
    yield page
    page.stop()


@pytest.fixture(scope="module")
def linked_gateway(tmp_path_factory: pytest.TempPathFactory, status_page: StatusPage) -> Iterator[Gateway]:
    folder: Path = tmp_path_factory.mktemp("db")
    migrate(sqlite_url(folder))
    node = Gateway(sqlite_url(folder), HELPLINE_STATUS_URL=status_page.url, **INTAKE_ENV, **GATEWAY_ENV).start()
    yield node
    node.stop()


async def test_linking_a_ticket_to_an_incident_is_sent_once_and_audited(
    linked_gateway: Gateway, status_page: StatusPage, receiver: Receiver
) -> None:
    incident = status_page.open_incident("Quotes frozen", "Real-time quotes stopped updating.", ["data-feeds"])
    async with httpx.AsyncClient(base_url=linked_gateway.url) as http:
        hook = (
            await http.post(
                "/api/admin/webhooks", headers=auth(ADMIN), json={"url": receiver.url, "events": ["incident.linked"]}
            )
        ).json()
        _, ivy = person("ivy")
        opened = await http.post("/api/tickets", headers=auth(ivy), json={"subject": "Stuck", "body": "EURUSD"})
        tid = opened.json()["id"]
        for _ in range(2):  # linking again to the same incident changes nothing, and sends nothing
            linked = await http.post(
                f"/api/tickets/{tid}/incident", headers=auth(AGENT), json={"incident_id": incident["id"]}
            )
            assert linked.status_code == 200, linked.text
        for _ in range(100):
            if receiver.received():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.8)
        [got] = receiver.received()  # only the subscribed type, once
        event = got.event
        assert event["type"] == "incident.linked" and event["data"]["ticket"] == tid
        assert event["data"]["incident"]["id"] == incident["id"]
        assert verify(hook["secret"], got.headers["Helpline-Timestamp"], got.body, got.headers["Helpline-Signature"])
        entries = (await http.get(f"/api/admin/audit?target={tid}&action=ticket.incident", headers=auth(ADMIN))).json()
        assert [e["details"]["incident"] for e in entries["entries"]] == [incident["id"], incident["id"]]
