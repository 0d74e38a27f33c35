"""Browser-test fixtures: one real `helpline up` per module (temp SQLite, free ports) and real Chromium via Playwright.

Without Chromium or Playwright the tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.services import ROOT, Gateway, free_port, unavailable

CHROMIUM = os.environ.get("HELPLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# Fast typing expiry so "typing clears" is seen within a test's patience, not after the 6 s default.
# The shared app starts without the demo data: the tests count their own tickets (test_demo_header.py seeds).
APP_ENV = {"HELPLINE_TYPING_TTL_S": "3", "HELPLINE_HEARTBEAT_S": "3", "HELPLINE_DEMO_DATA": "false"}


class App:
    """The running app: its URLs and the demo tokens it hands out."""

    def __init__(self, node: Gateway, status_port: int) -> None:
        self.node = node
        self.url = node.url
        self.status_url = f"http://127.0.0.1:{status_port}"
        self.tokens: dict[str, Any] = httpx.get(self.url + "/demo/tokens", timeout=5).json()

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
        )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("browser-app")
    status_port = free_port()
    node = Gateway(
        f"sqlite+aiosqlite:///{tmp / 'helpline.db'}",
        STATUS_PORT=str(status_port),
        HELPLINE_STATUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'status.db'}",
        **APP_ENV,
    )
    node.env.pop("HELPLINE_SECRET")  # demo sign-in exists only when `helpline up` generates its own secret
    node.start("up")
    try:
        yield App(node, status_port)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_as(app: App, browser: Any) -> Iterator[Callable[..., Any]]:
    """open_as("customer", "pro", "/") or open_as("agent", "agent1", "/dashboard"): a page in its own context,
    signed in as that demo user the way the demo page's picker does it."""
    contexts: list[Any] = []

    def opener(kind: str, key: str, path: str, **context_args: Any) -> Any:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 860}, **context_args})
        context.add_init_script(f"localStorage.setItem('helpline.demo.pick.{kind}', '{key}')")
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
        page.goto(app.url + path)
        return page

    yield opener
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
