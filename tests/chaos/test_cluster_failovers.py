"""The long form of the Redis Cluster failover test (`make chaos`): 20 kill -9 of cluster primaries under steady
load, each time the primary of a ticket being written to (its replica is promoted, the killed one comes back as a
replica). With MIN_REPLICAS=1 nothing acked is lost, nothing is stored twice, no seq is skipped; with MIN_REPLICAS=0
the figures show the window asynchronous replication leaves. Counted as the Sentinel form counts
(tests/chaos/failover_load.py); a private cluster, so that the kills disturb no other test."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from support.core import slot_groups
from tests.chaos.failover_load import kill_under_load
from tests.scaleout.cluster import Cluster
from tests.scaleout.redis_cluster import ClusterDeployment
from tests.services import ROOT

FULL = os.environ.get("HELPLINE_CHAOS") == "full"
KILLS = int(os.environ.get("CHAOS_CLUSTER_KILLS", "20"))
pytestmark = pytest.mark.skipif(not FULL, reason="the long form runs in `make chaos` (HELPLINE_CHAOS=full)")


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[ClusterDeployment]:
    deployment = ClusterDeployment(tmp_path)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.mark.parametrize("min_replicas", [1, 0])
async def test_twenty_kills_of_cluster_primaries_under_load(
    pg_url: str, redis_cluster: ClusterDeployment, min_replicas: int
) -> None:
    cluster = Cluster(pg_url, redis_cluster.url)
    cluster.env.update(HELPLINE_REDIS_MIN_REPLICAS=str(min_replicas), HELPLINE_REDIS_WAIT_TIMEOUT_MS="300")

    async def kill(tickets: list[str], n: int) -> None:
        """kill -9 the primary of one of the tickets under load (each in turn), wait for its replica to take
        over, and bring it back (a replica now) with the cluster healthy again."""
        tag = slot_groups.tag_of(tickets[n % len(tickets)])
        victim = redis_cluster.owner_of(tag)
        killed = redis_cluster.kill(victim)
        await asyncio.to_thread(
            redis_cluster.wait_until, lambda: redis_cluster.owner_of(tag) != victim, "no replica took over", 30.0
        )
        killed.start()
        await asyncio.to_thread(redis_cluster.until_healthy, 60.0)

    try:
        figures = await kill_under_load(cluster, kill, KILLS)
    finally:
        cluster.stop()
    out = ROOT / "test-output" / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"cluster-min-replicas-{min_replicas}.json").write_text(json.dumps(figures, indent=2))
    print(f"\ncluster chaos, MIN_REPLICAS={min_replicas}: {json.dumps(figures)}")
    assert figures["kills"] == KILLS
    if min_replicas:
        assert figures["acked_lost"] == 0 and figures["duplicates"] == 0 and figures["gaps"] == 0, figures
        assert figures["other_errors"] == 0
