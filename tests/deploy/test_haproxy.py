"""The production topology for real (issue 16): HAProxy running deploy/haproxy.cfg in front of two gateways on
Redis and PostgreSQL, plus the worker. The HTTP API and WebSockets go through it, with no sticky sessions, and a
rolling restart under load loses nothing and shows no client an error."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from support.core.tokens import issue_token
from tests.chaos.checker import check
from tests.chaos.clients import ChaosClient
from tests.deploy.topology import Topology
from tests.services import ROOT, SECRET, auth
from tests.wsclient import Client

TICKETS = 40
CLIENTS_PER_TICKET = 5  # one customer and four agents: 200 clients
STEADY_S = 2.0
SEND_EVERY_S = (1.0, 2.0)  # about 130 messages a second in all, each to five members


async def test_http_api_and_websockets_work_through_the_balancer_on_both_nodes(topology: Topology) -> None:
    customer = issue_token(SECRET, "lb-customer", "Lee", "pro", "customer")
    agent = issue_token(SECRET, "lb-agent", "Ann", "free", "agent")
    async with httpx.AsyncClient(base_url=topology.entry.url, timeout=5) as http:
        created = await http.post(
            "/api/tickets", headers=auth(customer), json={"subject": "Through the balancer", "body": "hello"}
        )
        assert created.status_code == 201, created.text
        ticket = created.json()["id"]
        reads = [await http.get(f"/api/tickets/{ticket}", headers=auth(customer)) for _ in range(4)]
        assert {r.status_code for r in reads} == {200}
        assert (await http.get("/readyz")).json()["status"] == "ok"

    customers = [await Client.connect(topology.entry.ws_url, customer) for _ in range(3)]
    agents = [await Client.connect(topology.entry.ws_url, agent) for _ in range(3)]
    for client in customers + agents:
        await client.send({"type": "join", "ticket": ticket})
        await client.expect("joined", ticket=ticket)
    states = await topology.haproxy.server_states()
    assert all(sessions > 0 for _, sessions in states.values()), states  # one user's sockets on both nodes

    await agents[0].send({"type": "send", "ticket": ticket, "client_id": "a1", "body": "we are on it"})
    await agents[0].expect("ack", client_id="a1")
    for client in customers + agents:  # delivered across nodes through Redis
        assert (await client.expect("message", ticket=ticket))["body"] == "we are on it"
    for client in customers + agents:
        await client.ws.close()


async def test_rolling_restart_under_load_loses_nothing_and_shows_no_error(topology: Topology) -> None:
    clients_by_ticket: dict[str, list[ChaosClient]] = {}
    async with httpx.AsyncClient(base_url=topology.entry.url, timeout=10) as http:
        for t in range(TICKETS):
            customer = f"roll-c{t}"
            token = issue_token(SECRET, customer, customer.title(), "premium", "customer")
            response = await http.post("/api/tickets", headers=auth(token), json={"subject": f"Roll {t}", "body": "!"})
            assert response.status_code == 201, response.text
            ticket = str(response.json()["id"])
            members = [
                ChaosClient(
                    topology,
                    ticket,
                    customer,
                    "customer",
                    t * 10,
                    plan="premium",  # type: ignore[arg-type]
                    send_every=SEND_EVERY_S,
                )
            ]
            members += [
                ChaosClient(
                    topology,
                    ticket,
                    f"roll-a{t}x{a}",
                    "agent",
                    t * 10 + 1 + a,  # type: ignore[arg-type]
                    send_every=SEND_EVERY_S,
                )
                for a in range(CLIENTS_PER_TICKET - 1)
            ]
            clients_by_ticket[ticket] = members
    clients = [c for members in clients_by_ticket.values() for c in members]
    try:
        for client in clients:
            client.start()
        await _until(lambda: all(c.joined for c in clients), 60, "every client joined")
        await asyncio.sleep(STEADY_S)
        sessions_before = {c.user_id: c.sessions for c in clients}
        print("before the restarts:", await topology.haproxy.server_states(), [g.port for g in topology.gateways])
        for index in range(2):  # gateway 1, then gateway 2; the clients send all the while
            await topology.restart(index)
            await asyncio.sleep(STEADY_S)
        for client in clients:  # bounded: after the restarts nobody writes anything new
            client.sending = False
        await _until(lambda: all(not c.outbox for c in clients), 60, "every outbox drained")
        await _until_written(topology)
        last = await _last_seqs(topology, clients_by_ticket)
        await _until(
            lambda: all(c.max_seen >= last[c.ticket][c.role == "customer"] for c in clients),
            30,
            "every client saw the last message",
        )
        found = await check(topology, clients_by_ticket)  # type: ignore[arg-type]
        close_codes = sorted({code for c in clients for code in c.stats.close_codes})  # before our own 1000s
        states = await topology.haproxy.server_states()
    finally:
        for client in clients:
            await client.stop()
        out = ROOT / "test-output" / "deploy"
        out.mkdir(parents=True, exist_ok=True)
        lines = sorted((line, c.user_id) for c in clients for line in c.trace)  # for the report of a failed run
        (out / "rolling-restart-trace.txt").write_text("".join(f"{who:>12} {line}\n" for line, who in lines))
    summary = {**found.as_dict(), "exit_codes": topology.exit_codes, "close_codes": close_codes, "balancer": states}
    (out / "rolling-restart.json").write_text(json.dumps(summary, indent=2))

    assert topology.exit_codes == [0, 0]
    assert found.clients == TICKETS * CLIENTS_PER_TICKET == 200
    assert found.problems == []
    assert found.acked_lost == 0 and found.history_duplicates == 0 and found.history_gaps == 0
    assert found.messages_acked == found.messages_sent > 0 and found.unacked_at_end == 0 and found.ack_conflicts == 0
    assert found.gaps_seen == 0 and found.duplicates_seen == 0 and found.order_violations == 0 and found.phantoms == 0
    assert found.unavailable_errors == 0 and found.other_errors == []  # no error frame, of any code
    assert all(c.sessions > sessions_before[c.user_id] for c in clients)  # every client was moved and resumed
    # Told to go away, never cut off by uvicorn's 1012. 1006 is no close frame at all: a client that heard nothing
    # for SILENCE_S dropped the connection itself, which a loaded machine (a stalled event loop) can cause.
    assert set(close_codes) - {1006} == {1001}, close_codes


async def _until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not reached within {timeout}s: {what}"
        await asyncio.sleep(0.05)


async def _until_written(topology: Topology, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await topology.worker_lag() != 0:
        assert time.monotonic() < deadline, "the worker did not catch up"
        await asyncio.sleep(0.3)


async def _last_seqs(topology: Topology, clients_by_ticket: dict[str, list[ChaosClient]]) -> dict[str, tuple[int, int]]:
    """Per ticket, the last seq an agent and a customer may see, from the database."""
    from tests.chaos.checker import database_history

    lasts = {}
    for ticket in clients_by_ticket:
        stored = await database_history(topology.database_url, ticket)
        lasts[ticket] = (
            max((m.seq for m in stored), default=0),
            max((m.seq for m in stored if not m.internal), default=0),
        )
    return lasts
