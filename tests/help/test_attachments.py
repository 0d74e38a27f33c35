"""Attachments on a real gateway: types proven by content, the size limit, who may upload and download,
the round trip of the bytes, the thread message an upload posts, and file names that cannot reach the disk."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.help.conftest import MAX_ATTACHMENT, HelpGateway, auth, person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x01" * 64
LOG = "2026-11-25T10:00:01Z ERROR chart: feed NASDAQ:AAPL stalled\n2026-11-25T10:00:02Z INFO retry 1 ✓\n".encode()


async def new_ticket(http: httpx.AsyncClient, token: str) -> str:
    response = await http.post(
        "/api/tickets", headers=auth(token), json={"subject": "Chart freezes", "body": "See the attached screenshot."}
    )
    assert response.status_code == 201
    return response.json()["id"]


async def upload(
    http: httpx.AsyncClient,
    token: str,
    ticket: str,
    data: bytes,
    filename: str,
    content_type: str = "application/octet-stream",
    **params: str,
) -> httpx.Response:
    return await http.post(
        f"/api/tickets/{ticket}/attachments",
        params={"filename": filename, **params},
        content=data,
        headers={**auth(token), "Content-Type": content_type},
    )


@pytest.fixture
def owner() -> str:
    return person("olga", "pro")


async def test_an_image_makes_the_round_trip(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    response = await upload(http, owner, ticket, PNG, "screen.png", "image/png")
    assert response.status_code == 201
    body = response.json()
    assert body["ticket"] == ticket and body["filename"] == "screen.png"
    assert body["content_type"] == "image/png" and body["size"] == len(PNG)
    assert body["url"] == f"/api/attachments/{body['id']}"
    download = await http.get(body["url"], headers=auth(owner))
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("inline")
    agent = await http.get(body["url"], headers=auth(person("agatha", role="agent")))
    assert agent.status_code == 200 and agent.content == PNG
    listed = (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(owner))).json()["attachments"]
    assert [a["id"] for a in listed] == [body["id"]]


async def test_a_log_file_downloads_as_an_attachment(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    response = await upload(http, owner, ticket, LOG, "chart-console.log", "text/plain")
    assert response.status_code == 201 and response.json()["content_type"] == "text/plain"
    download = await http.get(response.json()["url"], headers=auth(owner))
    assert download.content == LOG
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''chart-console.log"
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_the_type_comes_from_the_bytes_not_the_claim(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    webp = await upload(http, owner, ticket, WEBP, "photo.bin", "text/plain")
    assert webp.status_code == 201 and webp.json()["content_type"] == "image/webp"
    fake_png = await upload(http, owner, ticket, b"<svg onload=alert(1)></svg>", "chart.png", "image/png")
    assert fake_png.status_code == 415
    error = fake_png.json()["error"]
    assert error["code"] == "bad_request" and "chart.png" in error["message"] and "PNG" in error["message"]
    binary_log = await upload(http, owner, ticket, b"MZ\x90\x00\x03\x00\x00\x00", "setup.log", "text/plain")
    assert binary_log.status_code == 415 and "not a text file" in binary_log.json()["error"]["message"]
    listed = (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(owner))).json()["attachments"]
    assert [a["filename"] for a in listed] == ["photo.bin"]


async def test_an_oversized_file_is_refused(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    big = PNG + b"\x00" * MAX_ATTACHMENT
    response = await upload(http, owner, ticket, big, "huge.png", "image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large" and "64.0 KiB" in response.json()["error"]["message"]

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_ATTACHMENT // 4096 + 2):  # no Content-Length: the limit holds on the stream too
            yield b"\x89PNG\r\n\x1a\n" + b"\x00" * 4088

    streamed = await http.post(
        f"/api/tickets/{ticket}/attachments", params={"filename": "s.png"}, content=chunks(), headers=auth(owner)
    )
    assert streamed.status_code == 413
    empty = await upload(http, owner, ticket, b"", "nothing.png")
    assert empty.status_code == 400
    assert (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(owner))).json()["attachments"] == []


async def test_other_customers_can_neither_upload_nor_download(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    mine = (await upload(http, owner, ticket, PNG, "mine.png")).json()
    stranger = person("sam", "premium")
    assert (await upload(http, stranger, ticket, PNG, "x.png")).status_code == 404
    assert (await http.get(mine["url"], headers=auth(stranger))).status_code == 404
    assert (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(stranger))).status_code == 404
    assert (await http.get(mine["url"])).status_code == 401
    assert (await http.post(f"/api/tickets/{ticket}/attachments?filename=a.png", content=PNG)).status_code == 401
    for unknown in ("ffffffffffff", "..%2F..%2Fetc%2Fpasswd", "a%00b"):
        assert (await http.get(f"/api/attachments/{unknown}", headers=auth(owner))).status_code == 404
    bad_id = await upload(http, owner, ticket, PNG, "x.png", client_id="a\x00b")
    assert bad_id.status_code == 400


async def test_an_upload_with_a_client_id_shows_in_the_thread_once(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    client_id = uuid.uuid4().hex
    first = await upload(http, owner, ticket, PNG, "freeze.png", client_id=client_id)
    again = await upload(http, owner, ticket, PNG, "freeze.png", client_id=client_id)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["message_seq"] == again.json()["message_seq"]
    thread = (await http.get(f"/api/tickets/{ticket}", headers=auth(owner))).json()
    shown = [m for m in thread["messages"] if first.json()["url"] in m["body"]]
    assert len(shown) == 1 and shown[0]["seq"] == first.json()["message_seq"]
    assert shown[0]["body"].splitlines() == [f"📎 freeze.png ({len(PNG) / 1024:.1f} KiB)", first.json()["url"]]
    assert shown[0]["client_id"] == client_id


async def test_file_names_never_reach_the_disk(gateway: HelpGateway, http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    response = await upload(http, owner, ticket, LOG, "../../../etc/cron.d/evil.log")
    assert response.status_code == 201 and response.json()["filename"] == "evil.log"
    stored = sorted(p.name for p in gateway.attachments_dir.iterdir())
    assert response.json()["id"] in stored and not any("evil" in name for name in stored)
    assert not (gateway.attachments_dir.parent / "etc").exists()
    quoted = await upload(http, owner, ticket, LOG, 'a"b\r\nX-Evil: 1.txt')
    download = await http.get(quoted.json()["url"], headers=auth(owner))
    assert "x-evil" not in download.headers and download.content == LOG


async def test_the_same_upload_sent_twice_at_once_is_one_attachment(http: httpx.AsyncClient, owner: str) -> None:
    ticket = await new_ticket(http, owner)
    client_id = uuid.uuid4().hex
    answers = await asyncio.gather(
        *(upload(http, owner, ticket, PNG, "twice.png", client_id=client_id) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = (await http.get(f"/api/tickets/{ticket}/attachments", headers=auth(owner))).json()["attachments"]
    assert len(listed) == 1
    thread = (await http.get(f"/api/tickets/{ticket}", headers=auth(owner))).json()
    assert len([m for m in thread["messages"] if listed[0]["url"] in m["body"]]) == 1
