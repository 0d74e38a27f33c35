"""The final check of a chaos run: the history read through the API and from the database, against what every
client was acked and shown. Counts, not first failures, so the summary says how bad a bad run was."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from persistence.store import TicketStore
from support.core.tokens import issue_token
from support.core.model import Message
from tests.chaos.clients import ChaosClient
from tests.chaos.deployment import Deployment
from tests.services import SECRET


@dataclass
class Findings:
    tickets: int = 0
    clients: int = 0
    history_messages: int = 0
    messages_sent: int = 0  # distinct client ids the clients created
    send_frames: int = 0  # including resends after reconnects and `unavailable`
    messages_acked: int = 0  # distinct client ids acked
    acked_lost: int = 0  # acked, but not in the history with that seq and body (must be 0)
    history_duplicates: int = 0  # a seq or a client id twice in the history (must be 0)
    history_gaps: int = 0  # seqs missing between 1 and the last (must be 0)
    api_database_mismatches: int = 0  # the API's history differs from the database's (must be 0)
    unacked_at_end: int = 0  # still in an outbox after the drain (must be 0)
    ack_conflicts: int = 0
    duplicates_seen: int = 0  # a message shown twice to one client (must be 0)
    gaps_seen: int = 0  # a message a client may see but was never shown (must be 0)
    order_violations: int = 0
    leaks: int = 0  # an internal note shown to a customer (must be 0)
    phantoms: int = 0  # a seq shown that the history does not hold (must be 0)
    body_mismatches: int = 0
    reconnects: int = 0
    http_fills: int = 0
    unavailable_errors: int = 0
    other_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def api_history(deployment: Deployment, ticket: str) -> list[dict[str, Any]]:
    """Every message of a ticket as an agent reads it: GET /api/tickets/{id}, page by page."""
    token = issue_token(SECRET, "chaos-auditor", "Auditor", "free", "agent")
    node = deployment.live_nodes()[0]
    messages: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=node.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        while True:
            after = messages[-1]["seq"] if messages else 0
            response = await http.get(f"/api/tickets/{ticket}", params={"after_seq": after, "limit": 200})
            response.raise_for_status()
            page = response.json()
            messages += page["messages"]
            if not page["has_more"] or not page["messages"]:
                return messages


async def database_history(database_url: str, ticket: str) -> list[Message]:
    store = TicketStore(database_url)
    try:
        return await store.messages_after(ticket, 0, 1_000_000, include_internal=True)
    finally:
        await store.close()


async def check(deployment: Deployment, clients_by_ticket: dict[str, list[ChaosClient]]) -> Findings:
    found = Findings(tickets=len(clients_by_ticket))
    for ticket, clients in clients_by_ticket.items():
        api = await api_history(deployment, ticket)
        stored = await database_history(deployment.database_url, ticket)
        _check_history(found, ticket, api, stored)
        by_seq = {m.seq: m for m in stored}
        for client in clients:
            _check_client(found, client, stored, by_seq)
    return found


def _check_history(found: Findings, ticket: str, api: list[dict[str, Any]], stored: list[Message]) -> None:
    found.history_messages += len(stored)
    seqs = [m.seq for m in stored]
    found.history_duplicates += len(seqs) - len(set(seqs))
    client_ids = Counter(m.client_id for m in stored)
    found.history_duplicates += sum(n - 1 for n in client_ids.values())
    found.history_gaps += len(set(range(1, max(seqs, default=0) + 1)) - set(seqs))
    if seqs != sorted(seqs):
        found.problems.append(f"{ticket}: database history out of seq order")
    api_view = [(m["seq"], m["client_id"], m["body"]) for m in api]
    if api_view != [(m.seq, m.client_id, m.body) for m in stored]:
        found.api_database_mismatches += 1
        found.problems.append(f"{ticket}: API history ({len(api)}) differs from the database ({len(stored)})")


def _check_client(found: Findings, client: ChaosClient, stored: list[Message], by_seq: dict[int, Message]) -> None:
    found.clients += 1
    stats = client.stats
    found.messages_sent += stats.sent
    found.send_frames += stats.send_frames
    found.messages_acked += len(client.acked)
    found.unacked_at_end += len(client.outbox)
    found.ack_conflicts += stats.ack_conflicts
    found.order_violations += stats.order_violations
    found.reconnects += stats.reconnects
    found.http_fills += stats.http_fills
    found.unavailable_errors += stats.unavailable
    found.other_errors += [f"{client.user_id}: {e}" for e in stats.other_errors]
    for client_id, seq in client.acked.items():
        message = by_seq.get(seq)
        if message is None or message.client_id != client_id or message.body != client.sent[client_id].body:
            found.acked_lost += 1
            found.problems.append(f"{client.user_id}: acked {client_id} as seq {seq}, history has {message}")
    visible = {m.seq for m in stored if client.role != "customer" or not m.internal}
    shown = Counter(client.seen)
    found.duplicates_seen += sum(n - 1 for n in shown.values())
    missing = visible - set(shown)
    found.gaps_seen += len(missing)
    if missing:
        found.problems.append(f"{client.user_id}: never shown seqs {sorted(missing)[:20]}")
    found.phantoms += len(set(shown) - set(by_seq))
    found.leaks += len({s for s in shown if s in by_seq and by_seq[s].internal and client.role == "customer"})
    found.body_mismatches += sum(1 for s, body in client.seen_bodies.items() if s in by_seq and by_seq[s].body != body)
