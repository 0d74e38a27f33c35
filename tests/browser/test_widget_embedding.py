"""Embedding the widget on a host page, in real Chromium: it leaves the host's styles alone and the host's styles
leave it alone, it speaks the page's language, shows active incidents from the status page, and stays small."""

from __future__ import annotations

import gzip
import re
from typing import Any, Callable

import httpx
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true) with the reason
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import App

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]
HOST_ELEMENTS = ["body", "h1", ".bar", "nav a", "[data-tf]", "canvas", "#demo-user", ".hint"]
PROPS = [
    "color",
    "background-color",
    "font-family",
    "font-size",
    "line-height",
    "margin",
    "padding",
    "text-transform",
    "letter-spacing",
    "display",
    "border",
]
COMPUTED = """([selectors, props]) => selectors.map(sel => {
  const s = getComputedStyle(document.querySelector(sel));
  return [sel, props.map(p => s.getPropertyValue(p))];
})"""


def hl(name: str) -> str:
    return f'[data-hl="{name}"]'


def test_widget_does_not_change_the_host_pages_styles(app: App, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.url + "/#chart")  # signed out: widget.js is loaded but nothing is booted yet
    page.wait_for_function("window.Helpline !== undefined")
    before = page.evaluate(COMPUTED, [HOST_ELEMENTS, PROPS])
    sheets_before = page.evaluate("document.styleSheets.length")

    page.evaluate("t => Helpline.boot({token: t})", app.tokens["customers"]["pro"])
    page.locator(hl("launcher")).click()
    expect(page.locator(hl("new-ticket"))).to_be_visible()

    assert page.evaluate(COMPUTED, [HOST_ELEMENTS, PROPS]) == before
    assert page.evaluate("document.styleSheets.length") == sheets_before  # its style lives in its shadow root
    assert page.evaluate("document.querySelectorAll('helpline-widget').length") == 1
    assert page.evaluate("document.querySelector('helpline-widget').shadowRoot !== null")  # open shadow DOM
    context.close()


HOSTILE_PAGE = """<!doctype html><html lang="vi"><head><style>
* { color: rgb(255, 0, 0) !important; font-family: serif !important; letter-spacing: 4px !important; }
button { display: none; } div, li { border: 6px solid red; } helpline-widget { display: none; position: static; }
</style></head><body><h1>Hostile host</h1>
<script src="/widget.js" async data-token="TOKEN"></script></body></html>"""


def test_host_styles_cannot_break_the_widget_and_it_speaks_the_pages_language(app: App, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    body = HOSTILE_PAGE.replace("TOKEN", app.tokens["customers"]["free"])
    page.route(app.url + "/hostile.html", lambda route: route.fulfill(body=body, content_type="text/html"))
    page.goto(app.url + "/hostile.html")
    launcher = page.locator(hl("launcher"))
    expect(launcher).to_be_visible()
    expect(launcher).to_contain_text("Hỗ trợ")  # <html lang="vi">
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(21, 101, 192)"
    assert launcher.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert "serif" != launcher.evaluate("e => getComputedStyle(e).fontFamily")
    assert launcher.evaluate("e => getComputedStyle(e).letterSpacing") == "normal"
    launcher.click()
    expect(page.locator(hl("new-ticket"))).to_have_text("Yêu cầu mới")
    page.locator(hl("new-ticket")).click()
    # Free plan: every report is read and acted on; a reply only where one is needed (never "we will answer").
    expect(page.locator(hl("ticket-form"))).to_contain_text("Mọi báo cáo đều được đọc và xử lý")
    context.close()


def test_banner_shows_active_incident_and_hides_when_resolved(app: App, browser: Any) -> None:
    admin = {"Authorization": f"Bearer {app.tokens['admin']}"}
    created = httpx.post(
        app.status_url + "/api/incidents",
        headers=admin,
        timeout=10,
        json={
            "name": "Delayed order fills",
            "status": "investigating",
            "body": "Orders on EURUSD fill late.",
            "impact": "major",
        },
    )
    assert created.status_code == 201, created.text
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.url + "/")
    page.evaluate("t => Helpline.boot({token: t})", app.tokens["customers"]["pro"])
    page.locator(hl("launcher")).click()
    banner = page.locator(hl("banner"))
    expect(banner).to_contain_text("Delayed order fills")
    expect(banner).to_contain_text("Orders on EURUSD fill late.")

    resolved = httpx.post(
        f"{app.status_url}/api/incidents/{created.json()['id']}/updates",
        headers=admin,
        timeout=10,
        json={"status": "resolved", "body": "Fixed."},
    )
    assert resolved.status_code == 201, resolved.text
    page.locator(hl("close")).click()
    page.locator(hl("launcher")).click()  # the banner is refreshed when the widget opens
    expect(banner).to_be_hidden()
    context.close()


def test_what_widget_js_loads_first_stays_under_15_kb_gzipped(app: App, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    loaded: list[str] = []
    page.on("requestfinished", lambda r: loaded.append(r.url))
    page.goto(app.url + "/")
    page.evaluate("t => Helpline.boot({token: t})", app.tokens["customers"]["pro"])
    expect(page.locator(hl("launcher"))).to_be_visible()
    # /widget.js is embed/widget.js; the rest are under /widget/<version>/ (or /widget/): the path in widget/.
    widget_files = {
        "embed/widget.js"
        if u.split("?")[0] == app.url + "/widget.js"
        else re.sub(r"^.*?/widget/(v[0-9a-f]{12}/)?", "", u.split("?")[0])
        for u in loaded
        if "/widget.js" in u or "/widget/" in u
    }
    # The demo host's own files (its page, its header's words), not the widget's.
    widget_files -= {"pages/demo.js", "pages/demo.css", "session.js", "locales/en/demo.js"}
    assert {"embed/widget.js", "embed/app.js", "client.js"} <= widget_files

    # The message modules (locales/<lang>/<module>.js) are made by the gateway: measure what it serves.
    def packed(name: str) -> int:
        return len(gzip.compress(httpx.get(f"{app.url}/widget/{name}", timeout=5).content, 9))

    assert "locales/en/launcher.js" in widget_files  # the launcher's words of one language, not both
    assert "embed/panel.js" not in widget_files  # the panel comes on hover, focus or open
    assert not any(name.startswith("locales/vi/") for name in widget_files)
    total = sum(packed(name) for name in widget_files)
    # The bench measures the wire (headers, brotli); this keeps the modules as served (minified) in their budget.
    assert total < 15 * 1024, (total, sorted(widget_files))
    # With every part it loads later (the form, the thread, attachments, CSAT, the premium phone line, the sound and
    # follow-up links) it stays under 30 KB: issue 19's widget features took the sum of the files past 25 KB.
    lazy = {
        "embed/panel.js",
        "embed/panel-style.js",
        "locales/en/widget.js",
        "embed/intake.js",
        "embed/ticket-view.js",
        "thread.js",
        "attach.js",
        "csat.js",
        "callback.js",
        "embed/extras.js",
    }
    assert not lazy & widget_files  # rarely used parts are not in the first load
    everything = sum(packed(name) for name in widget_files | lazy)
    assert everything < 30 * 1024, (everything, sorted(widget_files | lazy))
    context.close()


def test_the_panel_comes_when_the_launcher_is_hovered_and_opens_with_all_its_words(app: App, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.url + "/")
    page.evaluate("t => Helpline.boot({token: t})", app.tokens["customers"]["pro"])
    launcher = page.locator(hl("launcher"))
    expect(launcher).to_be_visible()
    expect(launcher).to_contain_text("Help")  # drawn with the launcher's words alone
    fetched = "name => performance.getEntriesByType('resource').some(e => e.name.endsWith(name))"
    assert not page.evaluate(fetched, "/embed/panel.js")
    assert not page.evaluate(fetched, "/locales/en/widget.js")
    # The pointer over the launcher fetches the panel, its style and the widget's words, before any click.
    with page.expect_response(re.compile(r"/embed/panel\.js$")):
        launcher.hover()
    page.wait_for_function(fetched, arg="/locales/en/widget.js")
    assert page.evaluate(fetched, "/embed/panel-style.js")
    expect(page.locator(hl("close"))).to_be_hidden()  # hovering opens nothing
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(page.locator(hl("home-intro"))).to_contain_text("We are the support team")
    expect(page.locator(hl("new-ticket"))).to_have_text("New request")
    expect(page.locator(hl("new-ticket"))).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    context.close()
