"""The incident desk in real Chromium: an admin signs in with their token, opens an incident with a preview of the
status page and the widget's banner, publishes it, and resolves it; the status page shows it, every change is in
the audit log, and a widget open on the demo page shows the banner (and loses it) live, without a reload."""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest

from tests.browser.conftest import App, screenshot
from tests.browser.pages import expect, hl

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]
TITLE = "Order book frozen for some symbols"
BODY = "Order books of a few symbols stop updating. We are looking into it."
# What the brief asks of the live path: the banner follows a change within 5 s, pushed over the widget's socket
# (its own poll runs every 60 s, so only the push can show it within this patience).
LIVE_MS = 5000


def desk(app: App, browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(app.status_url + "/desk")
    page.locator(hl("desk-token")).fill(app.tokens["admin"])
    page.locator(hl("desk-signin-submit")).click()
    expect(page.locator(hl("desk-admin"))).to_be_visible()
    return page


def test_an_admin_opens_previews_publishes_and_resolves_an_incident_that_the_widget_shows_live(
    app: App, browser: Any, open_as: OpenAs
) -> None:
    customer = open_as("customer", "pro", "/")
    customer.locator(hl("launcher")).click()
    banner = customer.locator(hl("banner"))
    expect(banner).to_be_hidden()

    admin = desk(app, browser)
    expect(admin.locator(hl("desk-active"))).to_contain_text("Nothing active.")
    admin.locator(hl("desk-new-incident")).click()
    admin.locator(hl("desk-name")).fill(TITLE)
    admin.locator(hl("desk-impact")).select_option("major")
    admin.locator(hl("desk-components")).get_by_label("Charts").check()
    admin.locator(hl("desk-body")).fill(BODY)

    preview_page, preview_banner = admin.locator(hl("preview-page")), admin.locator(hl("preview-banner"))
    expect(preview_page).to_contain_text(TITLE)
    expect(preview_page).to_contain_text("Affects: Charts")
    expect(preview_page).to_contain_text(BODY)
    expect(preview_banner).to_contain_text(f"Service incident: {TITLE}")
    expect(preview_banner).to_contain_text(BODY)
    expect(banner).to_be_hidden()  # nothing is published by the preview
    expect(admin.locator("main")).not_to_contain_text("null")
    screenshot(admin, "incident-desk-preview")

    admin.locator(hl("publish")).click()
    expect(admin.locator(hl("desk-notice"))).to_have_text("Published.")
    item = admin.locator(hl("desk-incident")).filter(has_text=TITLE)
    expect(item).to_have_attribute("data-status", "investigating")
    created = admin.locator(hl("audit-entry")).first
    expect(created).to_have_attribute("data-action", "incident.created")
    expect(created).to_contain_text("Admin")
    expect(created).to_contain_text(TITLE)

    expect(banner).to_be_visible(timeout=LIVE_MS)
    expect(banner).to_contain_text(f"Service incident: {TITLE}")
    expect(banner).to_contain_text(BODY)
    screenshot(customer, "widget-live-banner")

    status = admin.context.new_page()
    status.goto(app.status_url + "/")
    expect(status.locator("#incidents")).to_contain_text(TITLE)

    item.locator(hl("desk-resolve")).click()
    expect(admin.locator(hl("desk-status"))).to_have_value("resolved")
    admin.locator(hl("desk-body")).fill("Order books update again.")
    expect(admin.locator(hl("preview-banner"))).to_have_text("The widget's banner goes away.")
    admin.locator(hl("publish")).click()
    expect(admin.locator(hl("desk-active"))).to_contain_text("Nothing active.")
    resolved = admin.locator(hl("audit-entry")).first
    expect(resolved).to_have_attribute("data-action", "incident.updated")
    expect(resolved).to_contain_text(re.compile("Resolved"))

    expect(banner).to_be_hidden(timeout=LIVE_MS)
    status.reload()
    expect(status.locator("#history")).to_contain_text("Order books update again.")
    assert admin.errors == [] and customer.errors == []  # type: ignore[attr-defined]
    admin.context.close()


def test_the_desk_refuses_a_token_that_is_not_an_admins(app: App, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app.status_url + "/desk")
    page.locator(hl("desk-token")).fill(app.tokens["agent"])
    page.locator(hl("desk-signin-submit")).click()
    expect(page.locator(hl("desk-signin"))).to_contain_text("only admins may change the status page")
    expect(page.locator(hl("desk-admin"))).to_have_count(0)
    page.goto(app.status_url + "/desk?lang=vi")  # the catalogue's Vietnamese, chosen by the server
    expect(page.locator("h1")).to_have_text("Bàn điều phối sự cố")
    expect(page.locator(hl("desk-signin-submit"))).to_have_text("Đăng nhập")
    context.close()
