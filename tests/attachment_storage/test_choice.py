"""The backend is chosen by HELPLINE_ATTACHMENTS_URL, and a URL that cannot be used stops the gateway with a
message naming it (no silent fallback to one node's disk)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.attachment_storage.conftest import S3_CREDENTIALS
from tests.services import ROOT, SECRET, free_port


def run_gateway(tmp_path: object, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "HELPLINE_SECRET": SECRET,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/helpline.db",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "helpline.cli", "gateway"],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unknown_attachments_scheme_stops_the_gateway(tmp_path: object) -> None:
    result = run_gateway(tmp_path, HELPLINE_ATTACHMENTS_URL="ftp://files.example/helpline")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'HELPLINE_ATTACHMENTS_URL: expected a URL starting with s3:// or file://, got "ftp://files.example/helpline"'
    ]


def test_an_s3_url_without_a_bucket_stops_the_gateway(tmp_path: object) -> None:
    result = run_gateway(tmp_path, HELPLINE_ATTACHMENTS_URL="s3:///prefix-only")
    assert result.returncode == 2
    assert "s3://BUCKET[/PREFIX]" in result.stderr


def test_a_missing_bucket_stops_the_gateway_before_it_serves(tmp_path: object, s3_endpoint: str) -> None:
    result = run_gateway(
        tmp_path,
        HELPLINE_ATTACHMENTS_URL="s3://no-such-bucket-here/x",
        HELPLINE_S3_ENDPOINT_URL=s3_endpoint,
        **S3_CREDENTIALS,
    )
    assert result.returncode != 0
    assert "the bucket 'no-such-bucket-here'" in result.stderr and "cannot be used" in result.stderr
