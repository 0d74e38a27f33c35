"""Ticket attachments: images and log files, checked by their bytes, stored under ids, shown in the thread.

Upload is the raw file as the request body (`?filename=`); with `?client_id=` the upload also posts the
thread message that shows it (idempotent on that id, per uploader). Only the ticket's owner and agents upload or
download.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse


from support.web.http import endpoint, identify, json_response
from support.help.attachment_storage import KEY, AttachmentStorage
from support.core.clock import iso, utcnow
from support.web.openapi import Operation, Param, api_routes
from support.core.errors import TicketError
from support.help.ports import AttachmentRecords, AttachmentView

IMAGE_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
)
TEXT_SUFFIXES = (".log", ".txt")
CLIENT_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")
ACCEPTED = "PNG, JPEG, GIF or WebP images, and UTF-8 text files named .log or .txt"


class UnsupportedType(TicketError):
    """A file whose bytes are none of the accepted types: 415 with the contract's bad_request code."""

    def __init__(self, message: str) -> None:
        super().__init__("bad_request", message)

    @property
    def http_status(self) -> int:
        return 415


class AttachmentList(msgspec.Struct):
    attachments: list[AttachmentView]


def sniff(data: bytes | bytearray, filename: str) -> str:
    """The content type the bytes prove; the client's claimed Content-Type is never trusted."""
    for content_type, magic, offset in IMAGE_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if filename.lower().endswith(TEXT_SUFFIXES):
        if b"\x00" in data:
            raise UnsupportedType(f"{filename} is not a text file (it contains binary data); we accept {ACCEPTED}")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsupportedType(f"{filename} is not UTF-8 text; we accept {ACCEPTED}") from None
        return "text/plain"
    raise UnsupportedType(f"the content of {filename} is not an accepted file type; we accept {ACCEPTED}")


def clean_filename(raw: str | None) -> str:
    """A display name only (files are stored under ids): no folders, no control characters, bounded."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip().lstrip(".")
    return name[:200] or "attachment"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KiB" if size < 1024**2 else f"{size / 1024**2:.1f} MiB"


def message_body(view: AttachmentView) -> str:
    """The thread message an upload posts: a line to read, then the attachment's URL alone on its own line
    (the widget and dashboard recognise `/api/attachments/{id}` lines and show the file)."""
    return f"📎 {view.filename} ({human_size(view.size)})\n{view.url}"


def new_attachment_id() -> str:
    return f"{int(time.time() * 1000):x}{secrets.token_hex(8)}"


def storage(request: Request) -> AttachmentStorage:
    """The node's backend, picked and started by the composition root (helpline/node.py, helpline/app.py)."""
    return request.app.state.attachment_storage  # type: ignore[no-any-return]


def records(request: Request) -> AttachmentRecords:
    attachments: AttachmentRecords = request.app.state.attachments
    return attachments


async def read_file(request: Request, limit: int) -> bytearray:
    """The body, gathered into one buffer as it arrives (never a list of chunks joined into a second copy)."""
    too_large = TicketError("too_large", f"attachments are limited to {human_size(limit)}")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        if len(data) + len(chunk) > limit:
            raise too_large
        data += chunk
    if not data:
        raise TicketError("bad_request", "the request body is the file; it was empty")
    return data


async def _repeat(request: Request, existing: AttachmentView, client_id: str) -> Response:
    """The same upload again: the same attachment, and its message posted if the first try stopped before it."""
    who = identify(request)
    result = await request.app.state.gateway.tickets.post(
        who, existing.ticket, client_id, message_body(existing), False
    )
    return json_response(msgspec.structs.replace(existing, message_seq=result.message.seq), 200)


@endpoint
async def upload(request: Request) -> Response:
    who = identify(request)
    gateway = request.app.state.gateway
    ticket_id = request.path_params["id"]
    facts = await gateway.tickets.check_view(who, ticket_id)
    if facts.status == "closed":
        raise TicketError("conflict", "the ticket is closed; open a follow-up instead", reason="ticket_closed")
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise TicketError("bad_request", "send the file itself as the request body, with ?filename=")
    client_id = request.query_params.get("client_id") or None
    if client_id is not None and not CLIENT_ID.match(client_id):
        raise TicketError("bad_request", "client_id: 1 to 128 printable characters")
    filename = clean_filename(request.query_params.get("filename"))
    data = await read_file(request, gateway.settings.attachment_max_bytes)
    content_type = sniff(data, filename)
    store = records(request)
    if client_id is not None:
        existing = await store.by_client_id(ticket_id, who.id, client_id)
        if existing is not None:
            return await _repeat(request, existing, client_id)
    now = utcnow()
    attachment_id = new_attachment_id()
    view = AttachmentView(
        attachment_id, ticket_id, filename, content_type, len(data), f"/api/attachments/{attachment_id}", iso(now) or ""
    )
    files = storage(request)
    await files.put(view.id, data)
    try:
        added = await store.add(view, who.id, client_id, now)
    except BaseException:
        await files.delete(view.id)
        raise
    if not added:  # a concurrent upload with this client_id won
        await files.delete(view.id)
        existing = await store.by_client_id(ticket_id, who.id, client_id) if client_id else None
        if existing is None or client_id is None:
            raise TicketError("conflict", "a concurrent upload with this client_id is in progress")
        return await _repeat(request, existing, client_id)
    if client_id is not None:
        result = await gateway.tickets.post(who, ticket_id, client_id, message_body(view), False)
        view.message_seq = result.message.seq
    return json_response(view, 201)


@endpoint
async def list_attachments(request: Request) -> Response:
    who = identify(request)
    gateway = request.app.state.gateway
    await gateway.tickets.check_view(who, request.path_params["id"])
    return json_response(AttachmentList(await records(request).of_ticket(request.path_params["id"])))


@endpoint
async def download(request: Request) -> Response:
    who = identify(request)
    gateway = request.app.state.gateway
    row = None
    if KEY.match(request.path_params["id"]):
        row = await records(request).get(request.path_params["id"])
    if row is None:
        raise TicketError("not_found", "no such attachment")
    try:
        await gateway.tickets.check_view(who, row.ticket)
    except TicketError:
        raise TicketError("not_found", "no such attachment") from None
    stored = await storage(request).open(row.id)
    if stored is None:
        raise TicketError("not_found", "the attachment's file is gone")
    is_text = row.content_type == "text/plain"
    disposition = "attachment" if is_text else "inline"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
        "Content-Length": str(stored.size),
    }
    media_type = "text/plain; charset=utf-8" if is_text else row.content_type
    # Streamed from the backend chunk by chunk: a file is never held whole by the node that serves it.
    return StreamingResponse(stored.chunks, media_type=media_type, headers=headers)


routes = api_routes(
    (
        upload,
        Operation(
            "POST",
            "/api/tickets/{id}/attachments",
            "Attach an image or a log file (owner or agent)",
            request=bytes,
            request_media_type="application/octet-stream",
            response=AttachmentView,
            status=201,
            also=(200,),
            tag="attachments",
            query=(
                Param("filename", Annotated[str, msgspec.Meta(max_length=255)], "the file's name (display only)"),
                Param(
                    "client_id",
                    Annotated[str, msgspec.Meta(min_length=1, max_length=128)],
                    "also post the thread message showing it; the same uploader's id again answers 200",
                ),
            ),
            description="The body is the file itself. PNG, JPEG, GIF, WebP (by their bytes) or UTF-8 .log/.txt; "
            "413 too_large over the size limit, 415 for any other type.",
        ),
    ),
    (
        list_attachments,
        Operation(
            "GET",
            "/api/tickets/{id}/attachments",
            "A ticket's attachments (owner or agent)",
            response=AttachmentList,
            tag="attachments",
        ),
    ),
    (
        download,
        Operation(
            "GET",
            "/api/attachments/{id}",
            "Download an attachment (owner or agent)",
            media_type="application/octet-stream",
            tag="attachments",
            description="The stored type (image/* or text/plain); logs come as Content-Disposition: attachment.",
        ),
    ),
)
