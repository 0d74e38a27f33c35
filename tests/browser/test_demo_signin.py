"""The demo page under `helpline up` with an operator's HELPLINE_SECRET: no demo tokens exist, and the page says so
instead of offering an empty picker (docs/security.md, "Demo sign-in")."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from tests.browser.conftest import APP_ENV
from tests.services import Gateway, free_port


@pytest.fixture(scope="module")
def operator_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("operator-up")
    node = Gateway(
        f"sqlite+aiosqlite:///{tmp / 'helpline.db'}",
        STATUS_PORT=str(free_port()),
        HELPLINE_STATUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'status.db'}",
        **APP_ENV,
    )
    node.start("up")  # Gateway sets HELPLINE_SECRET: the operator's own
    try:
        yield node
    finally:
        node.stop()


def test_demo_page_says_sign_in_is_not_available(operator_up: Gateway, browser: Any) -> None:
    assert httpx.get(operator_up.url + "/demo/tokens", timeout=5).status_code == 404
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(operator_up.url + "/")
        notice = page.locator('[data-hl="demo-signin-off"]')
        notice.wait_for(timeout=10_000)
        assert "Demo sign-in links are not available" in notice.inner_text()
        picker = page.locator('[data-hl="demo-user"]')
        assert picker.is_disabled() and picker.locator("option").count() == 1
        assert "not available" in picker.locator("option").first.inner_text()
        page.goto(operator_up.url + "/support")
        page.locator('[data-hl="signed-out"]').wait_for(timeout=10_000)
        assert errors == []
    finally:
        context.close()
