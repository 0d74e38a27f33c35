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

from tests.chaos.failover_load import kill_under_load
from tests.scaleout.cluster import Cluster
from tests.scaleout.sentinels import SentinelDeployment
from tests.services import ROOT

FULL = os.environ.get("HELPLINE_CHAOS") == "full"
KILLS = 20
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
    async def kill(_tickets: list[str], _n: int) -> None:
        old = sentinels.primary()
        old.kill()
        await asyncio.to_thread(sentinels.until_switched, old)
        await asyncio.to_thread(sentinels.rejoin, old)
        await asyncio.to_thread(sentinels.until_replicating, 2, 40.0)

    return await kill_under_load(cluster, kill, KILLS)
