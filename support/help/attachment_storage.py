"""The attachment storage port: where attachment bytes live, as a Protocol of a few methods. No I/O here.

Backends (persistence/attachments_local.py, persistence/attachments_s3.py) are picked by helpline/node.py from
`HELPLINE_ATTACHMENTS_URL`. Keys are server-made hex ids, never client file names, so no name reaches a path or key.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

KEY = re.compile(r"^[0-9a-f]{8,64}$")


def checked_key(key: str) -> str:
    """The key itself once it is proven a hex id; a backend calls this before the key touches a path or a URL."""
    if not KEY.match(key):
        raise ValueError("attachment keys are hex ids")
    return key


@dataclass
class StoredFile:
    """An attachment being read: its size (for Content-Length) and its bytes in chunks, read as they are sent.

    Iterate `chunks` to the end, or call `close()`, so the backend's file or connection is released."""

    size: int
    chunks: AsyncGenerator[bytes, None]

    async def close(self) -> None:
        await self.chunks.aclose()


class AttachmentStorage(Protocol):
    """Shared by every gateway node that points at the same place; keys are unique ids, written once."""

    async def start(self) -> None:
        """Open what the backend needs (a client, a folder) before the first request; blocking set-up goes here."""

    async def close(self) -> None:
        """Release connections; the storage is not used afterwards."""

    async def put(self, key: str, data: bytes | bytearray) -> None:
        """Store the bytes under the key; a crash leaves either the whole file or nothing under the key."""

    async def get(self, key: str) -> bytes | None:
        """The whole file, or None when the key is unknown (for small reads; downloads use `open`)."""

    async def open(self, key: str) -> StoredFile | None:
        """The file as a stream of chunks with its size, or None when the key is unknown."""

    async def delete(self, key: str) -> None:
        """Forget the key; deleting an unknown key is not an error."""
