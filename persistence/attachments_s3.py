"""Attachment storage in an S3-compatible bucket (`HELPLINE_ATTACHMENTS_URL=s3://bucket/prefix`), shared by N nodes.

The client is aiobotocore: asyncio on aiohttp, botocore's own SigV4 signing, endpoint and credential chain (the
usual AWS variables, profiles, instance and container roles), and its errors, for AWS and for any S3-compatible
server (MinIO, Ceph, R2, moto). aioboto3 only wraps it in boto3's resource layer we do not need; obstore is fast but
brings a second credential chain and config vocabulary for operators; plain httpx would mean hand-written signing,
retries and error parsing around botocore anyway. Its one blocking step (loading the service model files) runs in
`start()`, once, in a thread, never on a request. Downloads stream in chunks from the response body; an upload is
held once (it was sniffed whole, and is bounded by HELPLINE_ATTACHMENT_MAX_BYTES) and sent as one PutObject.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from support.help.attachment_storage import StoredFile, checked_key

CHUNK_BYTES = 64 * 1024
MISSING = {"NoSuchKey", "404", "NotFound"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); the prefix may be empty."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"an S3 attachments URL is s3://BUCKET[/PREFIX], not {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Storage:
    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, session: AioSession | None = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self._session = session or get_session()
        self._exits = contextlib.AsyncExitStack()
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str, endpoint_url: str | None = None, session: AioSession | None = None) -> S3Storage:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, endpoint_url, session)

    def object_key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    async def start(self) -> None:
        if self._client is not None:
            return
        # botocore reads its model files from disk (blocking): in a thread, once; the loader caches them for the client.
        await asyncio.to_thread(_load_models, self._session)
        config = AioConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self._client = await self._exits.enter_async_context(
            self._session.create_client("s3", endpoint_url=self.endpoint_url, config=config)
        )
        try:  # a bucket that is missing or refused stops the node here, not at its first upload
            await self._client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            await self.close()
            where = f" at {self.endpoint_url}" if self.endpoint_url else ""
            raise RuntimeError(
                f"HELPLINE_ATTACHMENTS_URL: the bucket {self.bucket!r}{where} cannot be used: {exc}"
            ) from exc

    async def close(self) -> None:
        await self._exits.aclose()
        self._client = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("S3Storage.start() was not awaited")
        return self._client

    async def put(self, key: str, data: bytes | bytearray) -> None:
        # PutObject is atomic: readers see the whole object or none.
        await self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise
        async with response["Body"] as body:
            return await body.read()  # type: ignore[no-any-return]

    async def open(self, key: str) -> StoredFile | None:
        try:
            response = await self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise
        return StoredFile(int(response["ContentLength"]), _chunks(response["Body"]))

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))  # unknown keys: 204 too


def _load_models(session: AioSession) -> None:
    loader = session.get_component("data_loader")
    for name in ("_retry", "endpoints", "partitions", "sdk-default-configuration"):
        loader.load_data_with_path(name)
    for kind in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
        loader.load_service_model("s3", kind)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


async def _chunks(body: Any) -> AsyncGenerator[bytes, None]:
    """The response body in chunks; closing it early (a client that went away) releases the connection."""
    try:
        async for chunk in body.iter_chunks(CHUNK_BYTES):
            yield chunk
    finally:
        body.close()
