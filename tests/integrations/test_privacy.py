"""A user's data on a real gateway: export returns exactly theirs; erasure leaves no body behind and no seq gap."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, select, table, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integrations.conftest import ADMIN, AGENT, auth, person, token
from tests.integrations.receiver import Receiver
from tests.services import Gateway
from tests.wsclient import Client


async def open_ticket(http: httpx.AsyncClient, who: str, subject: str, body: str, **extra: Any) -> str:
    response = await http.post("/api/tickets", headers=auth(who), json={"subject": subject, "body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def post(http: httpx.AsyncClient, who: str, ticket: str, body: str, internal: bool = False) -> int:
    response = await http.post(
        f"/api/tickets/{ticket}/messages",
        headers=auth(who),
        json={"body": body, "client_id": uuid.uuid4().hex, "internal": internal},
    )
    assert response.status_code == 201, response.text
    return response.json()["seq"]


async def test_export_returns_exactly_the_callers_data(http: httpx.AsyncClient) -> None:
    erin_id, erin = person("erin", "premium")
    _, fay = person("fay")
    first = await open_ticket(http, erin, "Orders stuck", "My order is stuck")
    await post(http, AGENT, first, "feed 3 lagging", internal=True)
    await post(http, AGENT, first, "We are on it")
    second = await open_ticket(http, erin, "Invoice", "Where is my invoice?")
    await open_ticket(http, fay, "Not Erin's", "Fay's own question")

    mine = (await http.get("/api/me/export", headers=auth(erin))).json()
    assert mine["user"] == erin_id
    assert [t["ticket"]["id"] for t in mine["tickets"]] == [first, second]
    assert [(m["seq"], m["body"]) for m in mine["tickets"][0]["messages"]] == [
        (1, "My order is stuck"),
        (3, "We are on it"),
    ]
    assert [m["body"] for m in mine["tickets"][1]["messages"]] == ["Where is my invoice?"]

    by_admin = (await http.get(f"/api/admin/users/{erin_id}/export", headers=auth(ADMIN))).json()
    assert by_admin["tickets"] == mine["tickets"]
    audit = (await http.get(f"/api/admin/audit?action=user.export&target={erin_id}", headers=auth(ADMIN))).json()
    assert [e["actor"]["id"] for e in audit["entries"]] == ["admin-ada"]


async def every_text_in_database(url: str) -> str:
    """Every cell of every table, as one string: what an erasure must leave no trace in."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            cells: list[str] = []
            for name in names:
                columns = await conn.run_sync(lambda sync, n=name: [c["name"] for c in inspect(sync).get_columns(n)])
                rows = await conn.execute(select(*[text(f'"{c}"') for c in columns]).select_from(table(name)))
                cells.extend(str(v) for row in rows for v in row)
            return "\n".join(cells)
    finally:
        await engine.dispose()


async def test_erasure_leaves_no_body_in_the_database_and_seqs_gapless(
    http: httpx.AsyncClient, gateway: Gateway, database_url: str, receiver: Receiver
) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    hook = (
        await http.post(
            "/api/admin/webhooks",
            headers=auth(ADMIN),
            json={"url": receiver.url, "events": ["ticket.created", "message.created"], "include_internal": True},
        )
    ).json()
    gus_id = f"gus-{uuid.uuid4().hex[:8]}"
    gus = token(gus_id, "pro", name=f"Gus {marker}name")
    tid = await open_ticket(
        http,
        gus,
        f"{marker} subject",
        f"{marker} first body",
        page_url=f"https://x/{marker}",
        context={"symbol": marker},
    )
    await post(http, gus, tid, f"{marker} second body")
    await post(http, AGENT, tid, f"note about {marker}", internal=True)
    await post(http, AGENT, tid, f"reply quoting {marker}")
    upload = await http.post(
        f"/api/tickets/{tid}/attachments?filename={marker}.txt&client_id=up1",
        headers=auth(gus),
        content=f"{marker} file".encode(),
    )
    assert upload.status_code == 201, upload.text
    attachment = upload.json()["id"]
    last = 5
    await asyncio.sleep(0.5)  # let the dispatcher pick the events up: their outbox copies must be scrubbed too
    assert marker in await every_text_in_database(database_url)

    erased = await http.post(f"/api/admin/users/{gus_id}/erase", headers=auth(ADMIN))
    assert erased.status_code == 200, erased.text
    assert erased.json()["tickets"] == 1 and erased.json()["attachments"] == 1

    assert marker not in await every_text_in_database(database_url)
    assert not (Path(gateway.attachments_dir) / attachment).exists()  # type: ignore[attr-defined]
    assert (await http.get(f"/api/attachments/{attachment}", headers=auth(gus))).status_code == 404

    # Recovery still gives every seq once, in order, now as tombstones.
    agent = await Client.connect(gateway.ws_url, AGENT)
    customer = await Client.connect(gateway.ws_url, gus)
    try:
        await agent.send({"type": "join", "ticket": tid, "since": 0})
        joined = await agent.expect("joined", ticket=tid)
        assert [m["seq"] for m in joined["messages"]] == list(range(1, last + 1))
        assert {m["body"] for m in joined["messages"]} == {"[erased]"}
        await customer.send({"type": "join", "ticket": tid, "since": 1})
        seen = await customer.expect("joined", ticket=tid)
        assert [m["seq"] for m in seen["messages"]] == [2, 4, 5]  # seq 3 is the internal note
    finally:
        await agent.ws.close()
        await customer.ws.close()
    thread = (await http.get(f"/api/tickets/{tid}", headers=auth(AGENT))).json()
    assert thread["ticket"]["subject"] == "[erased]" and thread["ticket"]["customer"]["name"] == "[erased]"

    audit = (await http.get(f"/api/admin/audit?action=user.erase&target={gus_id}", headers=auth(ADMIN))).json()
    [entry] = audit["entries"]
    assert entry["actor"]["id"] == "admin-ada" and entry["details"]["tickets"] == 1
    await http.delete(f"/api/admin/webhooks/{hook['id']}", headers=auth(ADMIN))


async def test_a_customer_erases_their_own_data_and_nobody_elses(http: httpx.AsyncClient) -> None:
    gil_id, gil = person("gil")
    _, hal = person("hal")
    mine = await open_ticket(http, gil, "My card number", "4111 in the chart notes")
    theirs = await open_ticket(http, hal, "Hal's question", "Hal's own words")
    refused = await http.post("/api/me/erase", headers=auth(AGENT))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    report = await http.post("/api/me/erase", headers=auth(gil))
    assert report.status_code == 200 and report.json()["ticket_ids"] == [mine]
    thread = (await http.get(f"/api/tickets/{mine}", headers=auth(gil))).json()
    assert thread["ticket"]["subject"] == "[erased]" and [m["body"] for m in thread["messages"]] == ["[erased]"]
    kept = (await http.get(f"/api/tickets/{theirs}", headers=auth(hal))).json()
    assert [m["body"] for m in kept["messages"]] == ["Hal's own words"]
    audit = (await http.get(f"/api/admin/audit?action=user.erase&target={gil_id}", headers=auth(ADMIN))).json()
    assert [e["actor"]["id"] for e in audit["entries"]] == [gil_id]
