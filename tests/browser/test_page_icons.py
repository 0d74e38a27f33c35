"""Every page a person opens, on the gateway and on the status page, names its tab icon and loads without a failed
request for what the page is made of: no 404 for /favicon.ico in the browser's console, which an operator would otherwise chase."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import App

GATEWAY_PAGES = ["/", "/support", "/dashboard", "/reports"]
STATUS_PAGES = ["/", "/desk"]


@pytest.mark.parametrize(
    "surface, path", [("gateway", p) for p in GATEWAY_PAGES] + [("status page", p) for p in STATUS_PAGES]
)
def test_each_page_has_its_icon_and_no_failed_request(app: App, browser: Any, surface: str, path: str) -> None:
    base = app.url if surface == "gateway" else app.status_url
    context = browser.new_context()
    context.add_init_script("localStorage.setItem('helpline.demo.pick.agent', 'agent1')")
    page = context.new_page()
    failed: list[str] = []
    # What the page is made of; its API calls may be refused on purpose (the incident desk's before sign-in).
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type not in ("fetch", "xhr")
            else None
        ),
    )
    try:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        icon = page.locator('link[rel="icon"]')
        assert icon.count() == 1
        href = str(icon.get_attribute("href"))
        got = httpx.get(base + href, timeout=5)
        assert got.status_code == 200 and got.headers["content-type"].startswith("image/svg+xml")
        assert failed == []
    finally:
        context.close()
