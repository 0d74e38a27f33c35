"""The Support tab and closed tickets in real Chromium against a real `helpline up` (issue 19): search and filter of
one's own tickets, human words instead of internal ones, a closed ticket that offers a follow-up (widget and Support
tab) linked both ways, "download my data" and "delete my data" (confirmed first).

Its own module, so its own app: the erasure at the end takes a demo customer's data with it."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Callable

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true) with the reason
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import App, screenshot
from tests.browser.pages import axe_violations, hl

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]


def new_ticket(app: App, plan: str, subject: str, **extra: Any) -> str:
    response = app.api(
        "POST", "/api/tickets", app.tokens["customers"][plan], json={"subject": subject, "body": "b", **extra}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def set_status(app: App, ticket: str, status: str) -> None:
    response = app.api("PATCH", f"/api/tickets/{ticket}", app.tokens["agent"], json={"status": status})
    assert response.status_code == 200, response.text


def test_search_and_filter_own_tickets_with_human_words(app: App, open_as: OpenAs) -> None:
    tag = secrets.token_hex(3)
    open_id = new_ticket(app, "pro", f"Hoàn tiền {tag}", category="billing")
    waiting = new_ticket(app, "pro", f"Alerts late {tag}")
    solved = new_ticket(app, "pro", f"Chart blank {tag}")
    closed = new_ticket(app, "pro", f"Old export {tag}")
    set_status(app, waiting, "pending")
    set_status(app, solved, "solved")
    set_status(app, closed, "closed")
    page = open_as("customer", "pro", "/support")
    expect(page.locator("#empty-hint")).to_have_text("Pick a request to read its conversation.")  # the customer's words
    items = page.locator(hl("ticket-item"))
    search = page.locator(hl("ticket-search"))
    search.fill(tag)
    expect(items).to_have_count(4)
    filters = page.locator(hl("ticket-filter"))

    def shown() -> set[str]:
        return {str(i.get_attribute("data-ticket")) for i in items.all()}

    filters.and_(page.locator('[data-filter="open"]')).click()
    expect(items).to_have_count(1)
    assert shown() == {open_id}
    filters.and_(page.locator('[data-filter="waiting"]')).click()
    expect(items).to_have_count(1)
    assert shown() == {waiting}
    filters.and_(page.locator('[data-filter="solved"]')).click()
    expect(items).to_have_count(2)
    assert shown() == {solved, closed}
    expect(page.locator('[data-filter="solved"]')).to_have_attribute("aria-pressed", "true")
    filters.and_(page.locator('[data-filter="all"]')).click()
    search.fill(f"hoan tien {tag}")  # without diacritics still finds "Hoàn tiền"
    expect(items).to_have_count(1)
    assert shown() == {open_id}
    search.fill(f"nothing like this {tag}")
    expect(page.locator(hl("ticket-list"))).to_contain_text("No request matches.")
    search.fill(tag)

    # No internal words: the plan's name instead of "P3", the category's label instead of "billing".
    expect(page.locator(hl("ticket-list"))).not_to_contain_text("P3")
    expect(items.first.locator(hl("priority"))).to_have_text("Pro support")
    page.locator(f'{hl("ticket-item")}[data-ticket="{open_id}"]').click()
    expect(page.locator(hl("category"))).to_have_text("Category: Billing")
    expect(page.locator("#ticket-pane")).not_to_contain_text("P3")
    expect(page.locator(hl("first-reply"))).to_contain_text("First reply expected within")
    assert axe_violations(page) == []
    assert page.errors == []


def test_a_closed_ticket_offers_a_follow_up_in_the_widget_linked_both_ways(app: App, open_as: OpenAs) -> None:
    subject = f"Export failed {secrets.token_hex(3)}"
    old = new_ticket(app, "premium", subject)
    page = open_as("customer", "premium", "/")
    page.locator(hl("launcher")).click()
    page.locator(hl("ticket-item"), has_text=subject).click()
    expect(page.locator(hl("composer"))).to_be_visible()
    set_status(app, old, "closed")  # live: the agent closes it while the customer looks at it
    expect(page.locator(hl("closed-notice"))).to_contain_text("This request is closed")
    expect(page.locator(hl("composer"))).to_have_count(0)
    page.locator(hl("follow-up")).click()
    expect(page.locator(hl("subject"))).to_have_value(f"Follow-up: {subject}")
    expect(page.locator(hl("ticket-form"))).to_contain_text(f"Follow-up of: {subject}")
    page.locator(hl("body")).fill("It failed again today.")
    page.locator(hl("submit")).click()
    expect(page.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_contain_text("It failed again today.")
    expect(page.locator(hl("follow-up-of"))).to_contain_text(subject)
    new = app.api("GET", "/api/tickets", app.tokens["customers"]["premium"]).json()["tickets"][0]
    assert new["follow_up_of"] == old and new["subject"] == f"Follow-up: {subject}"
    # Back on the old ticket: "Continued in" the new one, and still no composer.
    page.locator(hl("follow-up-of")).locator("button").click()
    expect(page.locator(hl("followed-up-in"))).to_contain_text(f"Follow-up: {subject}")
    expect(page.locator(hl("closed-notice"))).to_be_visible()
    # The desk shows the same link both ways.
    agent = open_as("agent", "agent1", f"/dashboard?ticket={new['id']}")
    expect(agent.locator(hl("ticket-subject"))).to_have_text(f"Follow-up: {subject}")
    agent.locator(f"{hl('follow-up-of')} a").click()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(subject)
    expect(agent.locator(hl("followed-up-in"))).to_be_visible()
    assert agent.locator(f"{hl('followed-up-in')} a").get_attribute("href") == f"?ticket={new['id']}"
    assert page.errors == [] and agent.errors == []


def test_a_message_to_a_ticket_closed_meanwhile_is_refused_not_kept_for_ever(app: App, open_as: OpenAs) -> None:
    subject = f"Late reply {secrets.token_hex(3)}"
    ticket = new_ticket(app, "pro_plus", subject)
    page = open_as("customer", "pro_plus", f"/support?ticket={ticket}")
    expect(page.locator(hl("composer"))).to_be_visible()
    page.evaluate("() => { window.helplineErrors = []; }")
    # Closed on the server without this page hearing of it first: its /ws is cut, the agent closes, we write.
    page.context.set_offline(True)
    set_status(app, ticket, "closed")
    page.locator(hl("composer-input")).fill("One more thing")
    page.locator(hl("send")).click()
    expect(page.locator(hl("message"), has_text="One more thing")).to_have_attribute("data-state", "sending")
    page.context.set_offline(False)
    mine = page.locator(hl("message"), has_text="One more thing")
    expect(mine).to_have_attribute("data-state", "failed")
    expect(mine.locator(hl("receipt"))).to_have_text("Not sent")
    expect(page.locator(hl("closed-notice"))).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('helpline.outbox.'))") == []
    history = app.api("GET", f"/api/tickets/{ticket}", app.tokens["agent"]).json()["messages"]
    assert [m["body"] for m in history] == ["b"]
    # The Support tab's follow-up: a new ticket linked to the closed one.
    page.locator(hl("follow-up")).click()
    page.locator(hl("body")).fill("One more thing")
    page.locator(hl("submit")).click()
    # The new ticket's thread (the form's own "Follow-up of" line shows before it is sent: wait for the thread).
    expect(page.locator(hl("ticket-subject"))).to_have_text(f"Follow-up: {subject}")
    expect(page.locator(hl("follow-up-of"))).to_contain_text(subject)
    followed = app.api("GET", f"/api/tickets/{ticket}", app.tokens["customers"]["pro_plus"]).json()["ticket"]
    assert followed["follow_ups"] and len(followed["follow_ups"]) == 1
    assert page.errors == []


def test_download_and_delete_my_data(app: App, open_as: OpenAs) -> None:
    subject = f"My data {secrets.token_hex(3)}"
    new_ticket(app, "free", subject)
    page = open_as("customer", "free", "/support")
    expect(page.locator(hl("ticket-item"), has_text=subject)).to_be_visible()
    with page.expect_download() as info:
        page.locator(hl("download-data")).click()
    download = info.value
    assert download.suggested_filename == "helpline-my-data.json"
    exported = json.loads(open(download.path(), encoding="utf-8").read())
    assert exported["user"] == "demo-free"
    assert subject in [t["ticket"]["subject"] for t in exported["tickets"]]

    page.locator(hl("delete-data")).click()
    confirm = page.locator(hl("delete-confirmation"))
    expect(confirm).to_contain_text("cannot be undone")
    page.locator(hl("delete-cancel")).click()  # changed their mind: nothing happens
    expect(confirm).to_be_hidden()
    expect(page.locator(hl("ticket-item"), has_text=subject)).to_be_visible()
    screenshot(page, "support-tab-data")
    page.locator(hl("delete-data")).click()
    page.locator(hl("delete-confirm")).click()
    expect(page.locator(hl("data-state"))).to_have_text("Your data was deleted.")
    expect(page.locator(hl("ticket-item"), has_text=subject)).to_have_count(0)
    subjects = [t["subject"] for t in app.api("GET", "/api/tickets", app.tokens["customers"]["free"]).json()["tickets"]]
    assert subjects and set(subjects) == {"[erased]"}
    assert page.errors == []


def test_the_support_tab_on_a_phone_fits_and_keeps_each_link_on_one_line(app: App, open_as: OpenAs) -> None:
    new_ticket(app, "pro", f"On my phone {secrets.token_hex(3)}")
    page = open_as("customer", "pro", "/support", viewport={"width": 375, "height": 667}, is_mobile=True)
    expect(page.locator(hl("ticket-item")).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing scrolls sideways
    # An inline link broken over two lines has two boxes ("Sign" / "out"): each must have one.
    broken = page.evaluate(
        "[...document.querySelectorAll('.topbar nav a')].filter((a) => !a.hidden && a.getClientRects().length > 1)"
        ".map((a) => a.textContent)"
    )
    assert broken == []
    assert page.errors == []


def test_unread_counts_what_the_customer_would_read_not_notes_or_their_own_words(app: App, open_as: OpenAs) -> None:
    subject = f"Unread count {secrets.token_hex(3)}"
    ticket = new_ticket(app, "premium", subject)  # seq 1, the customer's own
    customer, agent = app.tokens["customers"]["premium"], app.tokens["agent"]
    for who, body, internal in ((agent, "note to self", True), (agent, "On it", False), (customer, "thanks", False)):
        reply = {"body": body, "client_id": secrets.token_hex(6), "internal": internal}
        assert app.api("POST", f"/api/tickets/{ticket}/messages", who, json=reply).status_code == 201
    for _ in range(100):  # the worker writes the thread a moment after the commits
        listed = {t["id"]: t for t in app.api("GET", "/api/tickets", customer).json()["tickets"]}
        if listed[ticket]["last_seq"] == 4:
            break
        time.sleep(0.05)
    page = open_as("customer", "premium", "/support")
    item = page.locator(hl("ticket-item"), has_text=subject)
    expect(item.locator(hl("unread"))).to_have_text("1")  # the agent's reply: not the note, not "thanks"
    widget = open_as("customer", "premium", "/")
    widget.locator(hl("launcher")).click()
    expect(widget.locator(hl("ticket-item"), has_text=subject).locator(".badge")).to_have_text("1")
    assert page.errors == [] and widget.errors == []
