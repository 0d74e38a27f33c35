"""Attachment storage in a local folder (`HELPLINE_ATTACHMENTS_DIR`): one file per attachment, named by its key.

Every file operation runs in a thread (no blocking call on the event loop); writes go through a temp file + rename.
Several gateway nodes share it only through a shared volume; otherwise use the S3 backend (attachments_s3.py).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import BinaryIO

from support.help.attachment_storage import StoredFile, checked_key

CHUNK_BYTES = 64 * 1024


class LocalFolderStorage:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / checked_key(key)

    async def start(self) -> None:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        pass

    def _put(self, key: str, data: bytes | bytearray) -> None:
        path = self._path(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def _open(self, key: str) -> tuple[BinaryIO, int] | None:
        try:
            file = self._path(key).open("rb")
        except FileNotFoundError:
            return None
        return file, os.fstat(file.fileno()).st_size

    async def put(self, key: str, data: bytes | bytearray) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def open(self, key: str) -> StoredFile | None:
        opened = await asyncio.to_thread(self._open, key)
        if opened is None:
            return None
        file, size = opened
        return StoredFile(size, _chunks(file))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


async def _chunks(file: BinaryIO) -> AsyncGenerator[bytes, None]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
