"""Two gateway nodes on one PostgreSQL database both run the resolution watcher: every linked ticket still gets
the notice exactly once, and unlinked tickets get nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Iterator

import httpx
import pytest

from tests.intake.conftest import INTAKE_ENV, StatusPage, auth, token
from tests.services import Gateway, migrate, postgres_database

LINKED = 8


@pytest.fixture(scope="module")
def nodes(status_page: StatusPage) -> Iterator[tuple[Gateway, Gateway]]:
    for url in postgres_database():
        migrate(url)
        first = Gateway(url, HELPLINE_STATUS_URL=status_page.url, **INTAKE_ENV).start()
        second = Gateway(url, HELPLINE_STATUS_URL=status_page.url, **INTAKE_ENV).start()
        try:
            yield first, second
        finally:
            first.stop()
            second.stop()


async def test_two_watching_nodes_post_each_notice_once(
    nodes: tuple[Gateway, Gateway], status_page: StatusPage
) -> None:
    run = uuid.uuid4().hex[:6]
    agent = token(f"alice-{run}", role="agent", name="Alice")
    incident = status_page.open_incident("Charts not loading", "Charts stay blank.", ["charts"])
    customers = [token(f"c{k}-{run}", "pro") for k in range(LINKED + 1)]
    tickets: list[dict] = []
    async with httpx.AsyncClient(base_url=nodes[0].url) as one, httpx.AsyncClient(base_url=nodes[1].url) as two:
        followed = await one.post(
            f"/api/incidents/{incident['id']}/follow",
            headers=auth(customers[0]),
            json={"subject": "Blank chart", "body": "Nothing renders.", "category": "bug"},
        )
        assert followed.status_code == 201, followed.text
        tickets.append(followed.json())
        for k, customer in enumerate(customers[1:]):
            http = (one, two)[k % 2]
            r = await http.post(
                "/api/tickets",
                headers=auth(customer),
                json={"subject": "Chart blank", "body": "The chart is blank.", "category": "bug"},
            )
            assert r.status_code == 201, r.text
            tickets.append(r.json())
        unlinked, linked = tickets[-1], tickets[:-1]
        for k, ticket in enumerate(linked[1:]):
            r = await (two, one)[k % 2].post(
                f"/api/tickets/{ticket['id']}/incident", headers=auth(agent), json={"incident_id": incident["id"]}
            )
            assert r.status_code == 200 and r.json()["incident"] == incident["id"]

        status_page.resolve(incident["id"], "Charts render again.")

        client_id = f"incident-resolved:{incident['id']}"
        pending = {t["id"] for t in linked}
        for _ in range(200):
            for ticket_id in list(pending):
                history = (await one.get(f"/api/tickets/{ticket_id}", headers=auth(agent))).json()
                if any(m["client_id"] == client_id for m in history["messages"]):
                    pending.discard(ticket_id)
            if not pending:
                break
            await asyncio.sleep(0.1)
        assert not pending, f"{len(pending)} linked tickets got no notice"
        await asyncio.sleep(1.5)  # several more rounds of both watchers

        for ticket, customer in zip(tickets, customers):
            for http in (one, two):  # either node serves the same history: what the Support tab shows
                history = (await http.get(f"/api/tickets/{ticket['id']}", headers=auth(customer))).json()
                got = [m for m in history["messages"] if m["client_id"] == client_id]
                if ticket is unlinked:
                    assert got == [] and [m["seq"] for m in history["messages"]] == [1]
                else:
                    assert len(got) == 1 and got[0]["author"]["role"] == "system"
                    assert [m["seq"] for m in history["messages"]] == [1, 2]
