"""The long form of the Sentinel tests (`make chaos`): 20 kill -9 of the primary under steady load. With
MIN_REPLICAS=1 nothing acked is lost, nothing is stored twice, no seq is skipped; with MIN_REPLICAS=0 the figures
show the window asynchronous replication leaves (acked, then lost with the primary)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.scaleout.cluster import Cluster, history, kept_alive, open_ticket, person, wait_for_history
from tests.scaleout.sentinels import SentinelDeployment
from tests.scaleout.test_sentinel import send_until_acked
from tests.services import ROOT
from tests.wsclient import Client

FULL = os.environ.get("HELPLINE_CHAOS") == "full"
KILLS = 20
SENDERS = 4
pytestmark = pytest.mark.skipif(not FULL, reason="the long form runs in `make chaos` (HELPLINE_CHAOS=full)")


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelDeployment]:
    deployment = SentinelDeployment(tmp_path)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.mark.parametrize("min_replicas", [1, 0])
async def test_twenty_kills_of_the_primary_under_load(
    pg_url: str, sentinels: SentinelDeployment, min_replicas: int
) -> None:
    cluster = Cluster(pg_url, sentinels.url)
    cluster.env.update(HELPLINE_REDIS_MIN_REPLICAS=str(min_replicas), HELPLINE_REDIS_WAIT_TIMEOUT_MS="300")
    try:
        figures = await kill_primaries(cluster, sentinels)
    finally:
        cluster.stop()
    out = ROOT / "test-output" / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"sentinel-min-replicas-{min_replicas}.json").write_text(json.dumps(figures, indent=2))
    print(f"\nsentinel chaos, MIN_REPLICAS={min_replicas}: {json.dumps(figures)}")
    assert figures["kills"] == KILLS
    if min_replicas:
        assert figures["acked_lost"] == 0 and figures["duplicates"] == 0 and figures["gaps"] == 0, figures
        assert figures["other_errors"] == 0


async def kill_primaries(cluster: Cluster, sentinels: SentinelDeployment) -> dict[str, Any]:
    node = cluster.node()
    cluster.worker()
    tokens = [person(f"sender{i}") for i in range(SENDERS)]
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

    kills = 0
    async with kept_alive(*clients):
        for client, ticket in zip(clients, tickets):
            await client.join(ticket)
        senders = [asyncio.create_task(send(i)) for i in range(SENDERS)]
        for _ in range(KILLS):
            await asyncio.sleep(1.0)
            old = sentinels.primary()
            old.kill()
            kills += 1
            await asyncio.to_thread(sentinels.until_switched, old)
            await asyncio.to_thread(sentinels.rejoin, old)
            await asyncio.to_thread(sentinels.until_replicating, 2, 40.0)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*senders, return_exceptions=False)
    lost = duplicates = gaps = 0
    for ticket, mine in zip(tickets, acked):
        stored = await wait_for_history(cluster.database_url, ticket, len(mine) + 1, timeout=30)
        stored = await history(cluster.database_url, ticket)
        seqs = [m.seq for m in stored]
        by_client = {m.client_id: m.seq for m in stored[1:]}
        lost += sum(1 for cid, seq in mine.items() if by_client.get(cid) != seq)
        duplicates += len(stored) - 1 - len(by_client)
        gaps += sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    for client in clients:
        await client.close()
    return {
        "kills": kills,
        "acked": sum(len(m) for m in acked),
        "refused_then_retried": len(refusals),
        "other_errors": sum(1 for r in refusals if r.get("code") != "unavailable"),
        "acked_lost": lost,
        "duplicates": duplicates,
        "gaps": gaps,
    }
