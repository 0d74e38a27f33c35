"""Fixtures of the attachment storage contract suite: each backend for real, the S3 one on a moto server started
here (`python -m moto.server` on a free loopback port), with its own bucket per module."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import free_port, unavailable

S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "helpline-test",
    "AWS_SECRET_ACCESS_KEY": "helpline-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server of this test session; skipped (failed under CI=true) when it cannot start."""
    try:
        import moto.server  # noqa: F401 - only to know that moto[server] is installed
    except ImportError as exc:
        unavailable(f"moto[server] is not installed ({exc}): `make install` installs the test extras")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
            unavailable(f"moto_server exited with {process.returncode}: {error}")
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                process.kill()
                unavailable("moto_server did not answer within 30 s")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def new_bucket(endpoint: str) -> str:
    import botocore.session

    name = f"helpline-test-{secrets.token_hex(6)}"
    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    client.close()
    return name


def s3_session() -> Any:
    """An aiobotocore session with the test credentials, without touching this process's environment."""
    from aiobotocore.session import get_session

    session = get_session()
    session.set_credentials(S3_CREDENTIALS["AWS_ACCESS_KEY_ID"], S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    session.set_config_variable("region", S3_CREDENTIALS["AWS_DEFAULT_REGION"])
    return session


@dataclass
class Place:
    """Where a backend keeps files: the settings a gateway gets for it, and how a test opens it directly."""

    backend: str
    env: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None
    url: str = ""
    endpoint: str | None = None

    def open(self) -> Any:
        if self.backend == "local":
            from persistence.attachments_local import LocalFolderStorage

            return LocalFolderStorage(self.folder or "")
        from persistence.attachments_s3 import S3Storage

        return S3Storage.from_url(self.url, self.endpoint, s3_session())


@pytest.fixture(scope="module", params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Place:
    if request.param == "local":
        folder = tmp_path_factory.mktemp("attachments")
        return Place("local", {"HELPLINE_ATTACHMENTS_DIR": str(folder)}, folder=folder)
    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://{new_bucket(endpoint)}/tenant-a/attachments"
    env = {"HELPLINE_ATTACHMENTS_URL": url, "HELPLINE_S3_ENDPOINT_URL": endpoint, **S3_CREDENTIALS}
    return Place("s3", env, url=url, endpoint=endpoint)


@pytest.fixture
async def storage(place: Place) -> AsyncIterator[Any]:
    files = place.open()
    await files.start()
    yield files
    await files.close()


async def stored_keys(files: Any) -> set[str]:
    """Every key the backend holds, read from the place itself (the folder, the bucket under the prefix)."""
    if hasattr(files, "folder"):
        return {p.name for p in Path(files.folder).iterdir() if not p.name.startswith(".")}
    listed = await files.client.list_objects_v2(Bucket=files.bucket, Prefix=files.prefix)
    return {item["Key"].removeprefix(files.prefix) for item in listed.get("Contents", [])}
