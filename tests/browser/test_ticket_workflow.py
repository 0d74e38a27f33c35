"""After the ticket is open, in real Chromium: attachments shown to both sides, CSAT asked once when solved, and the
agent's tools (canned replies, signals of similar free reports, the "reviewed" mark the customer sees, away)."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any, Callable

import pytest

from tests.browser.conftest import App, screenshot
from tests.browser.pages import expect, hl, open_in_dashboard, open_widget_ticket, png

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]


def customer_pair(open_as: OpenAs, plan: str = "pro") -> tuple[Any, Any, str]:
    agent = open_as("agent", "agent1", "/dashboard")
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    customer = open_as("customer", plan, "/")
    subject = f"Spread too wide {secrets.token_hex(3)}"
    open_widget_ticket(customer, subject, "The EURUSD spread looks too wide today.")
    expect(agent.locator(hl("queue-item"), has_text=subject)).to_be_visible()
    open_in_dashboard(agent, subject)
    return customer, agent, subject


def paste_image(page: Any, selector: str, data: bytes, name: str) -> None:
    """What the browser does on Ctrl+V of a screenshot: a paste event whose clipboard holds an image file."""
    page.locator(selector).evaluate(
        """(input, [data, name]) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: "image/png" }));
      input.focus();
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
    }""",
        [base64.b64encode(data).decode(), name],
    )


def loaded_images(page: Any) -> Any:
    """Attachment previews that really decoded (a blob: URL of a real image), in the page's thread."""
    return page.locator(f'{hl("thread")} {hl("attachment-image")}[src^="blob:"]')


def test_attached_and_pasted_images_show_in_both_threads(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as)
    customer.locator(hl("attach-input")).set_input_files(
        {"name": "chart.png", "mimeType": "image/png", "buffer": png(rgb=(200, 30, 30))}
    )
    paste_image(customer, hl("composer-input"), png(rgb=(30, 160, 60)), "screenshot.png")
    for page in (customer, agent):
        expect(loaded_images(page)).to_have_count(2)
        for i in range(2):
            assert loaded_images(page).nth(i).evaluate("img => img.complete && img.naturalWidth") == 24
    expect(agent.locator(hl("message"), has_text="chart.png")).to_be_visible()

    # A log from the agent: a download link, not an image; and the Support tab shows the same files.
    agent.locator(hl("attach-input")).set_input_files(
        {"name": "gateway.log", "mimeType": "text/plain", "buffer": b"12:00:01 order 42 rejected\n"}
    )
    link = customer.locator(f"{hl('thread')} {hl('attachment-link')}")
    expect(link).to_have_text("gateway.log")
    assert link.get_attribute("href").startswith("blob:")
    support = customer.context.new_page()
    support.goto(app.url + "/support")
    support.locator(hl("ticket-item"), has_text=subject).click()
    expect(loaded_images(support)).to_have_count(2)
    screenshot(agent, "dashboard-attachments")
    assert customer.errors == [] and agent.errors == []


def test_csat_is_asked_once_after_the_agent_solves_the_ticket(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as)
    agent.locator(hl("reply")).fill("The spread is back to normal.")
    agent.locator(hl("send")).click()
    expect(customer.locator(hl("csat"))).to_have_count(0)  # not solved yet: nothing to rate
    agent.locator(hl("status")).select_option("solved")
    csat = customer.locator(hl("csat"))
    expect(csat).to_be_visible()  # live: the ticket frame said it is solved
    csat.locator(f'{hl("csat-score")}[data-score="4"]').click()
    csat.locator(hl("csat-comment")).fill("Quick and clear")
    screenshot(customer, "widget-csat")
    csat.locator(hl("csat-submit")).click()
    expect(customer.locator(hl("csat-thanks"))).to_be_visible()
    ticket_id = agent.evaluate("new URLSearchParams(location.search).get('ticket')")
    rating = app.api("GET", f"/api/tickets/{ticket_id}/csat", app.tokens["customers"]["pro"])
    assert rating.status_code == 200 and rating.json()["score"] == 4 and rating.json()["comment"] == "Quick and clear"

    # Never asked again: not when the thread is opened again, not after a reload, not in the Support tab.
    customer.reload()
    customer.locator(hl("launcher")).click()
    customer.locator(hl("ticket-item"), has_text=subject).click()
    expect(customer.locator(hl("message"), has_text="back to normal")).to_be_visible()
    support = customer.context.new_page()
    support.goto(app.url + f"/support?ticket={ticket_id}")
    expect(support.locator(hl("message"), has_text="back to normal")).to_be_visible()
    customer.wait_for_timeout(300)  # the rating check has answered by now
    assert customer.locator(hl("csat")).count() == 0 and support.locator(hl("csat")).count() == 0


def test_canned_reply_is_managed_picked_and_rendered_into_the_reply_box(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as)
    agent.locator(hl("canned-manage")).click()
    manager = agent.locator(hl("canned-manager"))
    manager.locator(hl("canned-title")).fill("Spread explained")
    manager.locator(hl("canned-body")).fill(
        "Hello {{customer.name}}, about “{{ticket.subject}}”: spreads widen at rollover."
    )
    manager.locator(hl("canned-save")).click()
    expect(manager.locator(hl("canned-item"), has_text="Spread explained")).to_be_visible()
    manager.locator(hl("canned-title")).fill("Temporary")
    manager.locator(hl("canned-body")).fill("to be deleted")
    manager.locator(hl("canned-save")).click()
    temp = manager.locator(hl("canned-item"), has_text="Temporary")
    expect(temp).to_be_visible()
    temp.locator(hl("canned-delete")).click()
    expect(temp).to_have_count(0)
    manager.locator(hl("canned-close")).click()

    agent.locator(hl("reply")).fill("Hi! ")
    picker = agent.locator(hl("canned"))
    expect(picker.locator("option", has_text="Temporary")).to_have_count(0)
    picker.select_option(label="Spread explained")
    expect(agent.locator(hl("reply"))).to_have_value(
        f"Hi! Hello Pat Pro, about “{subject}”: spreads widen at rollover."
    )
    screenshot(agent, "dashboard-canned")
    agent.locator(hl("send")).click()
    expect(customer.locator(hl("message"), has_text="Hello Pat Pro")).to_contain_text("spreads widen at rollover")
    assert agent.errors == []


def test_signals_panel_counts_similar_free_reports_and_review_reaches_the_customer(app: App, open_as: OpenAs) -> None:
    agent = open_as("agent", "agent1", "/dashboard")
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    free = app.tokens["customers"]["free"]
    for body in ("Watchlist prices frozen since the morning", "My watchlist prices are frozen, no updates"):
        res = app.api("POST", "/api/tickets", free, json={"subject": "Watchlist prices frozen", "body": body})
        assert res.status_code == 201, res.text
    customer = open_as("customer", "free", "/")
    open_widget_ticket(customer, "Watchlist prices frozen again", "The watchlist prices stay frozen for me")

    signal = agent.locator(f"{hl('signals')} {hl('signal')}", has_text="Watchlist")
    expect(signal.locator(hl("signal-count"))).to_have_text("3")  # refreshed live as free reports arrive
    expect(signal.locator(hl("signal-trend"))).to_contain_text("3/24h")
    expect(customer.locator(hl("reviewed"))).to_have_count(0)
    signal.locator(hl("signal-review")).click()
    expect(customer.locator(hl("reviewed"))).to_contain_text("Received and reviewed")  # live, in the open thread
    customer.locator(hl("back")).click()
    expect(customer.locator(hl("ticket-item"), has_text="frozen again").locator(hl("reviewed"))).to_be_visible()

    # The dashboard's own "reviewed" button, and the away toggle.
    ticket_id = signal.get_attribute("data-signal").removeprefix("sig-")
    agent.goto(app.url + f"/dashboard?ticket={ticket_id}")
    expect(agent.locator(f"#ticket-pane {hl('reviewed')}")).to_contain_text("Reviewed")
    expect(agent.locator(f'{hl("queue-item")}[data-ticket="{ticket_id}"] {hl("reviewed-chip")}')).to_have_text(
        "✓ Reviewed"
    )
    agent.locator(hl("away")).check()
    deadline = time.monotonic() + 10
    while not any(
        a["id"] == "agent-alice" and a["away"] for a in app.api("GET", "/api/agents", app.tokens["agent"]).json()
    ):
        assert time.monotonic() < deadline, "the away toggle did not reach the server"
        time.sleep(0.1)
    screenshot(agent, "dashboard-signals")
    agent.locator(hl("away")).uncheck()
    assert agent.errors == [] and customer.errors == []
