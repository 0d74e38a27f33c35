"""Secrets never reach the output: a gateway and `helpline up` under traffic (good and bad tokens, errors) print
neither HELPLINE_SECRET nor a bearer token, except the one line in which `helpline up` shows a secret it generated.

docs/security.md states the rule; this is its test.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from support.core.tokens import issue_token
from tests.services import ROOT, free_port
from tests.wsclient import Client


def start(command: str, tmp_path: Path, secret: str | None) -> tuple[subprocess.Popen[str], str]:
    port, status_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update(
        {
            "PORT": str(port),
            "STATUS_PORT": str(status_port),
            "HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}",
            "HELPLINE_STATUS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'status.db'}",
            "HELPLINE_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        }
    )
    if secret is not None:
        env["HELPLINE_SECRET"] = secret
    if command == "gateway":
        subprocess.run(
            [sys.executable, "-m", "helpline.cli", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True
        )
    process = subprocess.Popen(
        [sys.executable, "-m", "helpline.cli", command],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{command} exited: {process.stdout.read() if process.stdout else ''}"
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"{command} did not come up")


def output_after_stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


async def traffic(base: str, secret: str) -> list[str]:
    """Good and bad tokens over /ws and HTTP, a refused frame, a missing ticket; returns the tokens used."""
    good = issue_token(secret, "anna", "Anna", "pro", "customer")
    forged = issue_token("not-the-secret-" + "y" * 32, "mallory", "Mallory", "premium", "agent")
    expired = issue_token(secret, "old", "Old", "pro", "customer", ttl_s=-60)
    ws_url = base.replace("http", "ws") + "/ws"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        opened = await http.post(
            "/api/tickets",
            headers={"Authorization": f"Bearer {good}"},
            json={"subject": "Orders stuck", "body": "still stuck"},
        )
        assert opened.status_code == 201, opened.text
        ticket = opened.json()["id"]
        for token in (forged, expired, "garbage"):
            refused = await http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401
        assert (await http.get("/api/tickets/nope", headers={"Authorization": f"Bearer {good}"})).status_code == 404
    anna = await Client.connect(ws_url, good)
    await anna.join(ticket)
    await anna.say(ticket, "hello")
    await anna.send({"type": "send", "ticket": ticket, "client_id": "x", "body": "note", "internal": True})
    await anna.expect("error", ref="x")
    await anna.close()
    for token in (forged, expired):
        intruder = await Client.connect(ws_url)
        await intruder.send({"type": "hello", "token": token})
        assert await intruder.wait_closed() == 4401
    return [good, forged, expired]


async def test_gateway_prints_neither_the_secret_nor_tokens(tmp_path: Path) -> None:
    secret = "gateway-secret-" + "s" * 40
    process, base = start("gateway", tmp_path, secret)
    try:
        tokens = await traffic(base, secret)
    finally:
        out = output_after_stop(process)
    assert secret not in out
    for token in tokens:
        assert token not in out and token.split(".")[2] not in out


async def test_helpline_up_shows_a_generated_secret_once_and_a_given_one_never(tmp_path: Path) -> None:
    (tmp_path / "generated").mkdir()
    process, base = start("up", tmp_path / "generated", None)
    try:
        await asyncio.sleep(0.5)  # the banner is printed just after the listeners start
    finally:
        out = output_after_stop(process)
    shown = re.findall(r"^  HELPLINE_SECRET=(\S+)$", out, flags=re.MULTILINE)
    assert len(shown) == 1, out
    generated = shown[0]
    assert len(generated) >= 32
    assert [line for line in out.splitlines() if generated in line] == [f"  HELPLINE_SECRET={generated}"]

    given = "operator-secret-" + "g" * 40
    (tmp_path / "given").mkdir()
    process, base = start("up", tmp_path / "given", given)
    try:
        tokens = await traffic(base, given)
    finally:
        out = output_after_stop(process)
    assert given not in out and "HELPLINE_SECRET=" not in out
    for token in tokens:  # the demo sign-in links carry demo tokens by design; no token a user sent appears
        assert token not in out
