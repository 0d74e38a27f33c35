"""Fixtures of the deployment suite: the scale-out suite's PostgreSQL database and cluster (Redis prefix, gateway
and worker processes), and HAProxy in front of two of its gateways."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.deploy.topology import Topology
from tests.scaleout.cluster import Cluster
from tests.scaleout.conftest import cluster, pg_url  # noqa: F401 - fixtures shared with the scale-out suite


@pytest.fixture
async def topology(cluster: Cluster) -> AsyncIterator[Topology]:  # noqa: F811
    topology = Topology(cluster)
    try:
        await topology.start()
        yield topology
    finally:
        topology.stop()
