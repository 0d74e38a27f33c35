"""The attachment storage contract: every backend (local folder, S3 on a real moto server) passes the same tests,
first on the storage itself, then through a real gateway process that uses it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.attachment_storage.conftest import Place, stored_keys
from tests.services import Gateway, auth, migrated_database, token

PNG = b"\x89PNG\r\n\x1a\n"
BIG = 300 * 1024  # several of a backend's 64 KiB chunks


def png(size: int) -> bytes:
    return PNG + os.urandom(size - len(PNG))


def key() -> str:
    return uuid.uuid4().hex


async def test_a_stored_file_reads_back_whole_and_streamed(storage: Any) -> None:
    data, k = png(BIG), key()
    await storage.put(k, data)
    assert await storage.get(k) == data
    stored = await storage.open(k)
    assert stored is not None and stored.size == BIG
    chunks = [chunk async for chunk in stored.chunks]
    assert len(chunks) > 1, "a large file is read in chunks, not whole"
    assert b"".join(chunks) == data


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_stream_closed_early_releases_its_file_or_connection(storage: Any) -> None:
    k = key()
    await storage.put(k, png(4 * 1024 * 1024))  # more than a connection buffers before its reader takes it
    before = open_descriptors()
    # Clients that go away after the first chunk, more of them than the S3 client's pool holds (10), each stream
    # still referenced (as by a response being torn down): close() itself must release the file or connection, or
    # the next open waits for a connection, and the files stay open.
    streams = []
    for _ in range(15):
        stored = await asyncio.wait_for(storage.open(k), 10)
        assert stored is not None
        assert len(await anext(stored.chunks)) > 0
        await stored.close()
        streams.append(stored)
    assert open_descriptors() - before <= 10  # at most the pooled keep-alive connections
    assert len(streams) == 15


async def test_putting_a_key_again_replaces_its_file(storage: Any) -> None:
    k = key()
    await storage.put(k, b"first version")
    await storage.put(k, b"second")
    assert await storage.get(k) == b"second"
    stored = await storage.open(k)
    assert stored is not None and stored.size == len(b"second")
    await stored.close()


async def test_an_unknown_key_is_none_and_deleting_it_is_no_error(storage: Any) -> None:
    k = key()
    assert await storage.get(k) is None
    assert await storage.open(k) is None
    await storage.delete(k)


async def test_a_deleted_file_is_gone(storage: Any) -> None:
    k, other = key(), key()
    await storage.put(k, b"to forget")
    await storage.put(other, b"to keep")
    await storage.delete(k)
    assert await storage.get(k) is None and await storage.open(k) is None
    assert await storage.get(other) == b"to keep"
    assert k not in await stored_keys(storage) and other in await stored_keys(storage)


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "report.png", "ABCDEF0123", "", "a" * 65, "0" * 7, "deadbeef/../x"]
)
async def test_keys_that_are_not_hex_ids_never_reach_the_storage(storage: Any, bad: str) -> None:
    before = await stored_keys(storage)
    for call in (storage.get(bad), storage.open(bad), storage.delete(bad), storage.put(bad, b"x")):
        with pytest.raises(ValueError):
            await call
    assert await stored_keys(storage) == before


# Through a real gateway on this backend.


@pytest.fixture(scope="module")
def gateway(place: Place, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    for database_url in migrated_database("sqlite", tmp_path_factory):
        node = Gateway(database_url, HELPLINE_ATTACHMENT_MAX_BYTES=str(1024 * 1024), **place.env).start()
        yield node
        node.stop()


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        yield client


async def ticket_of(http: httpx.AsyncClient, customer: str) -> str:
    created = await http.post(
        "/api/tickets", headers=auth(customer), json={"subject": "Chart export broken", "body": "Screenshot attached."}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def upload(http: httpx.AsyncClient, customer: str, ticket: str, data: bytes, filename: str) -> str:
    response = await http.post(
        f"/api/tickets/{ticket}/attachments", params={"filename": filename}, content=data, headers=auth(customer)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def customer() -> tuple[str, str]:
    sub = f"cora-{uuid.uuid4().hex[:8]}"
    return sub, token(sub, "pro", "customer", "Cora")


async def test_an_uploaded_file_downloads_streamed_with_its_size(http: httpx.AsyncClient, storage: Any) -> None:
    _, cora = customer()
    data = png(BIG)
    attachment = await upload(http, cora, await ticket_of(http, cora), data, "chart.png")
    assert await storage.get(attachment) == data
    async with http.stream("GET", f"/api/attachments/{attachment}", headers=auth(cora)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-length"] == str(BIG)
        assert b"".join([chunk async for chunk in response.aiter_bytes()]) == data


async def test_file_names_never_reach_the_storage_key(http: httpx.AsyncClient, storage: Any) -> None:
    _, cora = customer()
    ticket = await ticket_of(http, cora)
    before = await stored_keys(storage)
    hostile = "../../etc/passwd.log"
    attachment = await upload(http, cora, ticket, b"root:x:0:0\n", hostile)
    added = await stored_keys(storage) - before
    assert added == {attachment}
    listed = (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(cora))).json()["attachments"]
    assert [a["filename"] for a in listed] == ["passwd.log"]  # the name is display-only


async def test_a_file_missing_from_the_storage_answers_404(http: httpx.AsyncClient, storage: Any) -> None:
    _, cora = customer()
    attachment = await upload(http, cora, await ticket_of(http, cora), png(1024), "lost.png")
    await storage.delete(attachment)
    response = await http.get(f"/api/attachments/{attachment}", headers=auth(cora))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_erasing_a_user_deletes_their_tickets_files(http: httpx.AsyncClient, storage: Any) -> None:
    cora_id, cora = customer()
    _, other = customer()
    ticket = await ticket_of(http, cora)
    files = {
        await upload(http, cora, ticket, png(2048), "one.png"),
        await upload(http, cora, ticket, b"line 1\n", "app.log"),
    }
    kept = await upload(http, other, await ticket_of(http, other), png(2048), "other.png")
    admin = token(f"admin-{uuid.uuid4().hex[:6]}", role="admin", name="Ada")
    erased = await http.post(f"/api/admin/users/{cora_id}/erase", headers=auth(admin))
    assert erased.status_code == 200, erased.text
    assert erased.json()["attachments"] == 2
    keys = await stored_keys(storage)
    assert not files & keys and kept in keys
    for attachment in files:
        assert (await http.get(f"/api/attachments/{attachment}", headers=auth(admin))).status_code == 404
    assert (await http.get(f"/api/attachments/{kept}", headers=auth(other))).status_code == 200
