"""N gateways share attachments through S3: two real `helpline gateway` processes (Redis bus, PostgreSQL) and a
worker, with one bucket; what is uploaded through one node downloads through the other, and erasure reaches it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.attachment_storage.conftest import S3_CREDENTIALS, new_bucket
from tests.scaleout.cluster import Cluster
from tests.scaleout.conftest import drop_prefix
from tests.services import REDIS_URL, Gateway, auth, migrate, postgres_database, require_redis, token


@pytest.fixture
def cluster(s3_endpoint: str) -> Iterator[Cluster]:
    require_redis()
    for database_url in postgres_database():
        migrate(database_url)
        cluster = Cluster(database_url, REDIS_URL)
        cluster.env.update(
            {
                "HELPLINE_ATTACHMENTS_URL": f"s3://{new_bucket(s3_endpoint)}/shared",
                "HELPLINE_S3_ENDPOINT_URL": s3_endpoint,
                **S3_CREDENTIALS,
            }
        )
        yield cluster
        cluster.stop()
        drop_prefix(REDIS_URL, cluster.prefix)


def node_with_own_disk(cluster: Cluster, disk: Path) -> Gateway:
    """A node whose local attachments folder is its own, as on separate machines: only S3 can join them."""
    cluster.env["HELPLINE_ATTACHMENTS_DIR"] = str(disk)
    return cluster.node()


async def test_a_file_uploaded_through_one_node_downloads_through_another(cluster: Cluster, tmp_path: Path) -> None:
    disks = [tmp_path / "node1", tmp_path / "node2"]
    node1, node2 = (node_with_own_disk(cluster, disk) for disk in disks)
    cluster.worker()
    sub = f"nora-{uuid.uuid4().hex[:8]}"
    nora = token(sub, "premium", "customer", "Nora")
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(200 * 1024)
    async with (
        httpx.AsyncClient(base_url=node1.url, timeout=10) as one,
        httpx.AsyncClient(base_url=node2.url, timeout=10) as two,
    ):
        created = await one.post(
            "/api/tickets", headers=auth(nora), json={"subject": "Order ticket screenshot", "body": "See the picture."}
        )
        assert created.status_code == 201, created.text
        ticket = created.json()["id"]
        uploaded = await one.post(
            f"/api/tickets/{ticket}/attachments?filename=order.png&client_id=shot-1", content=data, headers=auth(nora)
        )
        assert uploaded.status_code == 201, uploaded.text
        attachment = uploaded.json()["id"]

        downloaded = await two.get(f"/api/attachments/{attachment}", headers=auth(nora))
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content == data and downloaded.headers["content-type"] == "image/png"
        listed = (await two.get(f"/api/tickets/{ticket}/attachments", headers=auth(nora))).json()["attachments"]
        assert [a["id"] for a in listed] == [attachment]

        assert not any(disk.exists() and any(disk.iterdir()) for disk in disks), "no node kept it on its disk"

        admin = token("admin-ada", role="admin", name="Ada")
        erased = await two.post(f"/api/admin/users/{sub}/erase", headers=auth(admin))
        assert erased.status_code == 200 and erased.json()["attachments"] == 1, erased.text
        assert (await one.get(f"/api/attachments/{attachment}", headers=auth(admin))).status_code == 404
