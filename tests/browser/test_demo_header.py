"""The demo page's header under `helpline up` with its demo data: it shows who is signed in (name and plan), lets
you switch persona, and fits a phone (375 px) with the widget's launcher still on screen. The seeded tickets are
the signed-in customer's own in the widget."""

from __future__ import annotations

import time
from typing import Any, Iterator

import httpx
import pytest

from tests.browser.conftest import APP_ENV, screenshot
from tests.browser.pages import hl
from tests.services import Gateway, free_port

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips with the reason
    pass

PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def demo_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("demo-up")
    node = Gateway(
        f"sqlite+aiosqlite:///{tmp / 'helpline.db'}",
        STATUS_PORT=str(free_port()),
        HELPLINE_STATUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'status.db'}",
        **{**APP_ENV, "HELPLINE_DEMO_DATA": "true"},
    )
    node.env.pop("HELPLINE_SECRET")  # a generated secret: demo sign-in and demo data
    node.start("up")
    try:
        yield node
    finally:
        node.stop()


def signed_in_page(browser: Any, url: str, plan: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    # Picked once, as a person would: later reloads (switching persona) keep what the page stored since.
    context.add_init_script(
        "if (!sessionStorage.getItem('test.picked')) {"
        f" localStorage.setItem('helpline.demo.pick.customer', '{plan}'); sessionStorage.setItem('test.picked', '1'); }}"
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    return page


def inside_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return (
        bool(box)
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"] + 0.5
        and (box["y"] + box["height"] <= size["height"] + 0.5)
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_header_shows_who_is_signed_in(demo_up: Gateway, browser: Any, viewport: dict[str, int]) -> None:
    page = signed_in_page(browser, demo_up.url + "/", "pro", viewport)
    try:
        expect(page.locator(hl("demo-person"))).to_have_text("Pat Pro")
        expect(page.locator(hl("demo-plan"))).to_have_text("Pro")
        expect(page.locator(hl("demo-user"))).to_have_value("customer:pro")
        page.locator(hl("launcher")).wait_for(timeout=10_000)
        assert inside_viewport(page, hl("demo-person")) and inside_viewport(page, hl("demo-user"))
        assert inside_viewport(page, hl("launcher"))  # the header does not push the widget off-screen
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("system-ui")
        screenshot(page, f"demo-header-{'phone' if viewport is PHONE else 'desktop'}")
        # The seeded tickets are Pat's own: the widget lists them.
        page.locator(hl("launcher")).click()
        expect(page.locator(hl("ticket-list"))).to_contain_text("How do I export my trade history to CSV?")
        assert page.errors == []
    finally:
        page.context.close()


def test_switching_persona_and_vietnamese(demo_up: Gateway, browser: Any) -> None:
    page = signed_in_page(browser, demo_up.url + "/?lang=vi", "free", PHONE)
    try:
        expect(page.locator(hl("demo-person"))).to_have_text("Fran Free")
        expect(page.locator(hl("demo-plan"))).to_have_text("Miễn phí")
        page.locator(hl("demo-user")).select_option("customer:premium")  # the page reloads as Priya
        expect(page.locator(hl("demo-person"))).to_have_text("Priya Premium")
        expect(page.locator(hl("demo-plan"))).to_have_text("Premium")
        page.locator(hl("demo-user")).select_option("")  # signed out
        expect(page.locator(hl("demo-person"))).to_have_text("Chưa đăng nhập")
        expect(page.locator(hl("demo-plan"))).to_be_hidden()
        assert page.errors == []
    finally:
        page.context.close()


def test_a_sign_in_link_shows_its_person_in_the_picker(demo_up: Gateway, browser: Any) -> None:
    """The links `helpline up` prints carry tokens issued when it started; the page's own demo tokens are issued
    later. The picker still names the person the link signed in, not "(signed out)" beside their name."""
    link_token = httpx.get(demo_up.url + "/demo/tokens").json()["customers"]["premium"]
    time.sleep(1.1)  # the page's tokens are issued in a later second, so they are other strings for the same person
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        page.goto(f"{demo_up.url}/?token={link_token}")
        expect(page.locator(hl("demo-person"))).to_have_text("Priya Premium")
        expect(page.locator(hl("demo-user"))).to_have_value("customer:premium")
        assert page.errors == []
    finally:
        context.close()
