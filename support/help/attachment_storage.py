"""Where attachment bytes live: a small put/get/delete interface and its local-folder backend.

Keys are server-made ids (hex), never client file names, so no path can escape the folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

KEY = re.compile(r"^[0-9a-f]{8,64}$")


class AttachmentStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store the bytes under the key, replacing nothing half-written on a crash."""

    async def get(self, key: str) -> bytes | None:
        """The bytes, or None when the key is unknown."""

    async def delete(self, key: str) -> None:
        """Forget the key; deleting an unknown key is not an error."""


class LocalFolderStorage:
    """One file per attachment in a folder (settings.attachments_dir); writes go through a temp file + rename."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError("attachment keys are hex ids")
        return self.folder / key

    def _put(self, key: str, data: bytes) -> None:
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

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)
