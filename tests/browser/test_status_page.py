"""The status page as a user sees it in Chromium: components, an active incident, then its resolution."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import App, screenshot


def test_status_page_shows_an_incident_and_its_resolution(app: App, browser: Any) -> None:
    admin = {"Authorization": f"Bearer {app.tokens['admin']}"}
    created = httpx.post(
        app.status_url + "/api/incidents",
        headers=admin,
        timeout=10,
        json={
            "name": "Delayed quotes on the real-time data feed",
            "status": "identified",
            "impact": "major",
            "body": "Quotes from one exchange arrive up to 30 s late. A fix is rolling out.",
            "components": ["data-feeds"],
        },
    )
    assert created.status_code == 201, created.text
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(app.status_url + "/")
    assert page.get_by_text("Delayed quotes on the real-time data feed").first.is_visible()
    assert page.get_by_text("Support chat").first.is_visible()
    screenshot(page, "status-page")
    incident = created.json()
    resolved = httpx.post(
        f"{app.status_url}/api/incidents/{incident['id']}/updates",
        headers=admin,
        timeout=10,
        json={"status": "resolved", "body": "Quotes are on time again."},
    )
    assert resolved.status_code == 201
    page.reload()
    history = httpx.get(app.status_url + "/api/incidents?state=resolved", timeout=10).json()
    assert any(
        i["id"] == incident["id"] for i in (history.get("incidents", history) if isinstance(history, dict) else history)
    )
    assert page.get_by_text("Quotes are on time again.").first.is_visible()
    context.close()
