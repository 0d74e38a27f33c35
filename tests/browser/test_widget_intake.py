"""The widget's intake in real Chromium: article suggestions while the subject is typed and the deflection they
earn, the known-incident offer at submit, the expected reply time of the plan, and the premium phone line."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Callable

import httpx
import pytest

from tests.browser.conftest import App, screenshot
from tests.browser.pages import expect, fill_widget_form, hl, open_in_dashboard

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]


def article_stats(app: App) -> dict[str, dict[str, Any]]:
    res = app.api("GET", "/api/articles/stats", app.tokens["agent"])
    assert res.status_code == 200, res.text
    return {a["slug"]: a for a in res.json()["articles"]}


def wait_for_stat(app: App, slug: str, kind: str, at_least: int) -> dict[str, Any]:
    """The events are sent by the browser in the background: wait for the server to have counted them."""
    deadline = time.monotonic() + 10
    while True:
        row = article_stats(app)[slug]
        if row[kind] >= at_least or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def test_suggestions_appear_while_typing_and_an_abandoned_draft_counts_a_deflection(app: App, open_as: OpenAs) -> None:
    counted = article_stats(app)
    customer = open_as("customer", "pro", "/")
    customer.locator(hl("launcher")).click()
    customer.locator(hl("new-ticket")).click()
    suggestions = customer.locator(hl("suggestions"))
    customer.locator(hl("subject")).press_sequentially("How do I reset my passw", delay=20)
    expect(suggestions).to_be_visible()
    first = suggestions.locator(hl("suggestion")).first
    expect(first).to_contain_text(re.compile("password", re.I))
    slug = first.get_attribute("data-slug")
    assert slug and first.get_attribute("href").endswith(f"/help/{slug}")
    before = counted[slug]
    screenshot(customer, "widget-suggestions")

    with customer.context.expect_page() as popup_info:
        first.click()
    article = popup_info.value
    article.wait_for_load_state()
    assert article.url.endswith(f"/help/{slug}")
    expect(article.locator("h1").first).to_be_visible()
    article.close()

    customer.locator(hl("back")).click()  # the draft is left without sending: the article did its job
    after = wait_for_stat(app, slug, "deflected", before["deflected"] + 1)
    assert after["suggested"] >= before["suggested"] + 1
    assert after["opened"] == before["opened"] + 1
    assert after["deflected"] == before["deflected"] + 1

    # A draft that is sent after opening an article is not a deflection.
    customer.locator(hl("new-ticket")).click()
    customer.locator(hl("subject")).press_sequentially("Reset my password please", delay=10)
    link = suggestions.locator(f'{hl("suggestion")}[data-slug="{slug}"]')
    with customer.context.expect_page() as popup_info:
        link.click()
    popup_info.value.close()
    wait_for_stat(app, slug, "opened", after["opened"] + 1)
    customer.locator(hl("body")).fill("The reset e-mail never arrives.")
    customer.locator(hl("submit")).click()
    expect(customer.locator(hl("message"), has_text="never arrives")).to_be_visible()
    customer.locator(hl("back")).click()
    customer.locator(hl("close")).click()
    customer.wait_for_timeout(300)  # a would-be deflected event has had its chance to arrive
    assert article_stats(app)[slug]["deflected"] == after["deflected"]
    assert customer.errors == []


@pytest.mark.parametrize(
    ("path", "typed", "slug", "words"),
    [
        ("/", "My alerts are late", "alerts-not-firing", "did not fire"),
        ("/", "I want my money back", "refunds-and-invoices", "Refunds"),
        ("/?lang=vi", "quen mat khau", "sign-in-problems-and-password-reset-vi", "mật khẩu"),
        ("/?lang=vi", "xóa tài khoản", "delete-account-and-export-data-vi", "xóa tài khoản"),
    ],
)
def test_suggestions_find_the_answer_in_the_widgets_language(
    open_as: OpenAs, path: str, typed: str, slug: str, words: str
) -> None:
    customer = open_as("customer", "pro", path)
    customer.locator(hl("launcher")).click()
    customer.locator(hl("new-ticket")).click()
    customer.locator(hl("subject")).press_sequentially(typed, delay=15)
    first = customer.locator(hl("suggestions")).locator(hl("suggestion")).first
    expect(first).to_have_attribute("data-slug", slug)
    expect(first).to_contain_text(re.compile(re.escape(words), re.I))
    assert customer.errors == []


def wait_until_the_gateway_matches(app: App, incident_id: str) -> None:
    """The gateway reuses the status page's active incidents for HELPLINE_STATUS_CACHE_S: wait for it to see this one."""
    deadline = time.monotonic() + 15
    draft = {"subject": "withdrawal stuck pending", "body": "crypto withdrawals pending"}
    while True:
        found = app.api("POST", "/api/incidents/match", app.tokens["customers"]["pro"], json=draft).json()["incidents"]
        if any(i["id"] == incident_id for i in found):
            return
        assert time.monotonic() < deadline, "the gateway never matched the new incident"
        time.sleep(0.2)


def test_known_incident_is_offered_and_following_it_opens_a_linked_ticket(app: App, open_as: OpenAs) -> None:
    admin = {"Authorization": f"Bearer {app.tokens['admin']}"}
    created = httpx.post(
        app.status_url + "/api/incidents",
        headers=admin,
        timeout=10,
        json={
            "name": "Withdrawals stuck in pending",
            "status": "identified",
            "impact": "major",
            "body": "Crypto withdrawals stay pending; a fix is rolling out.",
        },
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    try:
        wait_until_the_gateway_matches(app, incident["id"])
        customer = open_as("customer", "pro", "/")
        fill_widget_form(customer, "My withdrawal is stuck in pending", "Crypto withdrawal pending since this morning")
        customer.locator(hl("submit")).click()
        offer = customer.locator(hl("known-incident"))
        expect(offer).to_contain_text("This is a known incident: Withdrawals stuck in pending")
        assert customer.locator(hl("thread")).count() == 0  # nothing was filed yet
        screenshot(customer, "widget-known-incident")
        customer.locator(hl("follow-incident")).click()
        expect(customer.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_contain_text(
            "Crypto withdrawal pending since this morning"
        )
        expect(customer.locator("h3", has_text="Following: Withdrawals stuck in pending")).to_be_visible()
        mine = app.api("GET", "/api/tickets", app.tokens["customers"]["pro"]).json()["tickets"]
        followed = next(t for t in mine if t["subject"] == "Following: Withdrawals stuck in pending")
        detail = app.api("GET", f"/api/tickets/{followed['id']}", app.tokens["agent"]).json()["ticket"]
        assert detail["incident"] == incident["id"]

        # "Send my report anyway" files the report as written, without a link; an agent can link it by hand.
        subject = f"Withdrawal pending again {secrets.token_hex(3)}"
        customer.locator(hl("back")).click()
        customer.locator(hl("new-ticket")).click()
        customer.locator(hl("subject")).fill(subject)
        customer.locator(hl("body")).fill("Another crypto withdrawal stuck in pending")
        customer.locator(hl("submit")).click()
        customer.locator(hl("submit-anyway")).click()
        expect(customer.locator("h3", has_text=subject)).to_be_visible()
        agent = open_as("agent", "agent1", "/dashboard")
        open_in_dashboard(agent, subject)
        link = agent.locator(hl("incident-link"))
        expect(link.locator(f'option[value="{incident["id"]}"]')).to_have_count(1)
        link.select_option(incident["id"])
        ticket_id = agent.evaluate("new URLSearchParams(location.search).get('ticket')")
        deadline = time.monotonic() + 10
        while app.api("GET", f"/api/tickets/{ticket_id}", app.tokens["agent"]).json()["ticket"]["incident"] is None:
            assert time.monotonic() < deadline, "the dashboard did not link the ticket"
            time.sleep(0.1)
        assert customer.errors == [] and agent.errors == []
    finally:
        httpx.post(
            f"{app.status_url}/api/incidents/{incident['id']}/updates",
            headers=admin,
            timeout=10,
            json={"status": "resolved", "body": "Withdrawals are processed again."},
        )


def test_an_offered_incident_resolved_meanwhile_is_withdrawn_live(app: App, open_as: OpenAs) -> None:
    admin = {"Authorization": f"Bearer {app.tokens['admin']}"}
    created = httpx.post(
        app.status_url + "/api/incidents",
        headers=admin,
        timeout=10,
        json={"name": "Price alerts not firing", "status": "investigating", "impact": "major", "body": "Alerts late."},
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    draft = {"subject": "price alerts not firing", "body": "my price alerts never fire"}
    deadline = time.monotonic() + 15
    while not any(
        i["id"] == incident["id"]
        for i in app.api("POST", "/api/incidents/match", app.tokens["customers"]["pro"], json=draft).json()["incidents"]
    ):
        assert time.monotonic() < deadline, "the gateway never matched the new incident"
        time.sleep(0.2)
    customer = open_as("customer", "pro", "/")
    fill_widget_form(customer, "Price alerts not firing", "My price alerts never fire since this morning")
    customer.locator(hl("submit")).click()
    offer = customer.locator(hl("known-incident"))
    expect(offer).to_contain_text("This is a known incident: Price alerts not firing")
    resolved = httpx.post(
        f"{app.status_url}/api/incidents/{incident['id']}/updates",
        headers=admin,
        timeout=10,
        json={"status": "resolved", "body": "Alerts fire again."},
    )
    assert resolved.status_code == 201
    # Pushed over the widget's socket (the `status` frame): no reload, no resubmit.
    expect(offer.locator(hl("known-resolved"))).to_contain_text("“Price alerts not firing” has just been resolved")
    expect(offer.locator(hl("follow-incident"))).to_have_count(0)
    customer.locator(hl("submit")).click()  # the report goes as written
    expect(customer.locator("h3", has_text="Price alerts not firing")).to_be_visible()
    assert customer.errors == []


def test_expected_reply_time_for_a_paid_plan_and_the_notice_for_free(app: App, open_as: OpenAs) -> None:
    paid = open_as("customer", "pro_plus", "/")
    paid.locator(hl("launcher")).click()
    paid.locator(hl("new-ticket")).click()
    expect(paid.locator(hl("expected"))).to_contain_text(re.compile(r"Expected reply: about \d+(\.\d)? (min|h)"))
    expect(paid.locator(hl("free-notice"))).to_have_count(0)
    paid.locator(hl("subject")).fill("Order book depth")
    screenshot(paid, "widget")
    paid.goto(app.url + "/support")
    expect(paid.locator(hl("expected"))).to_contain_text("Expected reply: about")

    free = open_as("customer", "free", "/")
    free.locator(hl("launcher")).click()
    free.locator(hl("new-ticket")).click()
    expect(free.locator(hl("free-notice"))).to_contain_text("read and acted on")
    expect(free.locator(hl("expected"))).to_be_hidden()  # free promises no reply time
    free.goto(app.url + "/support")
    expect(free.locator(hl("free-notice"))).to_contain_text("read and acted on")
    expect(free.locator(hl("expected"))).to_have_count(0)
    assert paid.errors == [] and free.errors == []


def test_premium_sees_the_phone_line_and_a_callback_reaches_the_agents(app: App, open_as: OpenAs) -> None:
    agent = open_as("agent", "agent1", "/dashboard")
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    customer = open_as("customer", "premium", "/")
    customer.locator(hl("launcher")).click()
    options = customer.locator(hl("support-options"))
    expect(options.locator(hl("phone"))).to_contain_text("+1 800 555 0142")
    options.locator(hl("callback")).click()
    customer.locator(hl("callback-phone")).fill("+44 20 7946 0958")
    customer.locator(hl("callback-time")).fill("after 16:00 UTC")
    customer.locator(hl("callback-form")).locator("button[type=submit]").click()
    expect(customer.locator(hl("callback-done"))).to_be_visible()
    expect(customer.locator(hl("ticket-item")).first).to_be_visible()

    # Other plans are not offered a phone line.
    pro = open_as("customer", "pro", "/")
    pro.locator(hl("launcher")).click()
    expect(pro.locator(hl("new-ticket"))).to_be_visible()
    assert pro.locator(hl("support-options")).count() == 0

    item = agent.locator(f"{hl('callbacks')} {hl('callback-item')}", has_text="+44 20 7946 0958")
    expect(item).to_contain_text("after 16:00 UTC")
    ticket_id = item.get_attribute("data-ticket")
    card = agent.locator(f'{hl("queue-item")}[data-ticket="{ticket_id}"]')
    expect(card.locator(hl("callback-chip"))).to_have_text("Callback")
    item.locator(hl("callback-done")).click()
    expect(item).to_have_count(0)
    expect(agent.locator(f'{hl("queue-item")}[data-ticket="{ticket_id}"]')).to_have_attribute("data-status", "solved")
    assert customer.errors == [] and agent.errors == []
