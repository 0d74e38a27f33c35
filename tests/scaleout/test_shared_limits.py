"""Rate limits on the Redis bus hold across gateway nodes together: two nodes are not twice the limit."""

from __future__ import annotations

import uuid

import httpx

from tests.scaleout.cluster import Cluster, person
from tests.wsclient import hello_outcome

BURST = 6


def strict(cluster: Cluster) -> None:
    cluster.env.update(
        {
            "HELPLINE_ANONYMOUS_WRITE_RATE_PER_S": "0.01",
            "HELPLINE_ANONYMOUS_WRITE_BURST": str(BURST),
            "HELPLINE_HTTP_WRITE_RATE_PER_S": "0.01",
            "HELPLINE_HTTP_WRITE_BURST": str(BURST),
            "HELPLINE_CONNECTION_RATE_PER_S": "0.01",
            "HELPLINE_CONNECTION_BURST": str(BURST),
        }
    )


async def test_anonymous_writes_from_one_address_are_limited_across_both_nodes(cluster: Cluster) -> None:
    strict(cluster)
    nodes = [cluster.node(), cluster.node()]
    caller = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}  # the test connects from the trusted loopback
    codes: list[int] = []
    async with httpx.AsyncClient() as http:
        for i in range(2 * BURST):  # the load balancer sends each request to the other node
            response = await http.post(
                f"{nodes[i % 2].url}/api/articles/payment-failed/events",
                headers=caller,
                json={"kind": "opened", "client_id": uuid.uuid4().hex},
            )
            codes.append(response.status_code)
        assert codes == [201] * BURST + [429] * BURST
        assert response.json()["error"]["code"] == "rate_limited" and int(response.headers["retry-after"]) >= 1


async def test_a_users_writes_are_limited_across_both_nodes(cluster: Cluster) -> None:
    strict(cluster)
    nodes = [cluster.node(), cluster.node()]
    writer = {"Authorization": f"Bearer {person('wanda')}"}
    async with httpx.AsyncClient() as http:
        codes = [
            (
                await http.post(
                    f"{nodes[i % 2].url}/api/tickets",
                    headers=writer,
                    json={"subject": "Chart frozen", "body": "It stopped updating."},
                )
            ).status_code
            for i in range(2 * BURST)
        ]
    assert codes == [201] * BURST + [429] * BURST


async def test_new_connections_from_one_address_are_limited_across_both_nodes(cluster: Cluster) -> None:
    strict(cluster)
    nodes = [cluster.node(), cluster.node()]
    caller = f"2001:db8::{uuid.uuid4().hex[:4]}"
    outcomes = [await hello_outcome(nodes[i % 2].ws_url, person("reconnecting"), caller) for i in range(2 * BURST)]
    assert outcomes == ["welcome"] * BURST + [4429] * BURST
