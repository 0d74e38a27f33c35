"""The API reference page in real Chromium: it renders every operation and the webhooks from the served document,
under the app's Content-Security-Policy, with no error."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from tests.browser.conftest import browser  # noqa: F401 - the shared real-Chromium fixture
from tests.services import Gateway, migrate, sqlite_url

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def docs_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    url = sqlite_url(tmp_path_factory.mktemp("docs"))
    migrate(url)
    node = Gateway(url).start()
    yield node
    node.stop()


def test_reference_page_renders_every_operation(docs_gateway: Gateway, browser: Any) -> None:  # noqa: F811
    document = httpx.get(docs_gateway.url + "/api/openapi.json").json()
    operations = sum(len(item) for item in document["paths"].values()) + len(document["webhooks"])
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    try:
        page.goto(docs_gateway.url + "/api/docs")
        page.locator("#webhook_incident_linked").wait_for()  # the last thing rendered
        assert page.locator("[data-hl=api-operation]").count() == operations
        erase = page.locator("#post_api_admin_users_id_erase")
        erase.locator("summary").click()
        assert "Admins only." in erase.inner_text()
        webhook = page.locator("#webhook_message_created")
        webhook.locator("summary").click()
        assert "internal" in webhook.inner_text()  # the Message schema's fields are rendered
        assert errors == []
    finally:
        page.close()
