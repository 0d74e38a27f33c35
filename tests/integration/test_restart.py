"""What was acked survives the gateway being killed: the embedded default acks only after the database commit."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.conftest import GATEWAY_ENV, token
from tests.services import Gateway
from tests.wsclient import Client


async def test_every_acked_message_is_in_history_after_kill_9(database_url: str) -> None:
    node = Gateway(database_url, **GATEWAY_ENV).start()
    customer = token(f"hank-{uuid.uuid4().hex[:6]}", "pro")
    try:
        async with httpx.AsyncClient(base_url=node.url) as http:
            ticket = (
                await http.post(
                    "/api/tickets",
                    headers={"Authorization": f"Bearer {customer}"},
                    json={"subject": "restart", "body": "first"},
                )
            ).json()
        hank = await Client.connect(node.ws_url, customer)
        await hank.join(ticket["id"])
        for i in range(200):
            await hank.send({"type": "send", "ticket": ticket["id"], "client_id": f"k{i}", "body": f"m{i}"})
        # Kill mid-stream, as soon as the first ack is in: some sends acked, some not. (A fixed sleep was too short
        # on a loaded machine, where nothing had been acked yet.)
        await hank.until(lambda frames: any(f.get("type") == "ack" for f in frames), timeout=30)
        node.kill()
        await hank.wait_closed()
        acked = {f["client_id"]: f["seq"] for f in hank.of_type("ack")}
        assert acked, "nothing was acked before the kill"
    finally:
        node.kill()
    again = Gateway(database_url, **GATEWAY_ENV).start()
    try:
        async with httpx.AsyncClient(base_url=again.url) as http:
            thread = (
                await http.get(
                    f"/api/tickets/{ticket['id']}?limit=1000", headers={"Authorization": f"Bearer {customer}"}
                )
            ).json()
        stored = {m["client_id"]: m["seq"] for m in thread["messages"]}
        assert all(stored.get(cid) == seq for cid, seq in acked.items())
        seqs = [m["seq"] for m in thread["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))
        # The sequence carries on after the restart, with no gap and no reuse.
        hank = await Client.connect(again.ws_url, customer)
        await hank.join(ticket["id"], since=seqs[-1])
        ack = await hank.say(ticket["id"], "after restart")
        assert ack["seq"] == seqs[-1] + 1
        await hank.close()
    finally:
        again.stop()
