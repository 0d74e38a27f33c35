"""Steady load through a gateway while something kills Redis primaries, and its count: acked, refused then
retried, acked but lost, stored twice, gaps in the stored seqs. Shared by the Sentinel and the Redis Cluster forms
of the 20-kill chaos test (`make chaos`)."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from tests.scaleout.cluster import Cluster, history, kept_alive, open_ticket, person, wait_for_history
from tests.scaleout.test_sentinel import send_until_acked
from tests.wsclient import Client

SENDERS = 4
Kill = Callable[[list[str], int], Awaitable[None]]  # the tickets under load, the kill's number: kills one primary


async def kill_under_load(cluster: Cluster, kill: Kill, kills: int, senders: int = SENDERS) -> dict[str, Any]:
    """One gateway and one worker; a sender per ticket, one message after another (retrying `unavailable` with the
    same client_id, as the widget does), while `kill` runs `kills` times a second apart; then the count."""
    node = cluster.node()
    cluster.worker()
    tokens = [person(f"sender{i}") for i in range(senders)]
    tickets = [await open_ticket(node, t) for t in tokens]
    clients = [await Client.connect(node.ws_url, t) for t in tokens]
    acked: list[dict[str, int]] = [{} for _ in clients]
    refusals: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def send(index: int) -> None:
        client, ticket, mine = clients[index], tickets[index], acked[index]
        while not stop.is_set():
            client_id = f"s{index}-{len(mine)}"
            mine[client_id] = await send_until_acked(client, ticket, client_id, refusals, timeout=60)
            await asyncio.sleep(0.02)

    done = 0
    async with kept_alive(*clients):
        for client, ticket in zip(clients, tickets):
            await client.join(ticket)
        tasks = [asyncio.create_task(send(i)) for i in range(senders)]
        for n in range(kills):
            await asyncio.sleep(1.0)
            await kill(tickets, n)
            done += 1
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=False)
    lost = duplicates = gaps = 0
    for ticket, mine in zip(tickets, acked):
        await wait_for_history(cluster.database_url, ticket, len(mine) + 1, timeout=30)
        stored = await history(cluster.database_url, ticket)
        seqs = [m.seq for m in stored]
        by_client = {m.client_id: m.seq for m in stored[1:]}  # the first is the ticket's opening message
        lost += sum(1 for cid, seq in mine.items() if by_client.get(cid) != seq)
        duplicates += len(stored) - 1 - len(by_client)
        gaps += sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    for client in clients:
        await client.close()
    return {
        "kills": done,
        "acked": sum(len(m) for m in acked),
        "refused_then_retried": len(refusals),
        "other_errors": sum(1 for r in refusals if r.get("code") != "unavailable"),
        "acked_lost": lost,
        "duplicates": duplicates,
        "gaps": gaps,
    }
