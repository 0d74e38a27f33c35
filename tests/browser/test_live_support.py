"""The customer's widget and the agent's dashboard in real Chromium against a real `helpline up`: a ticket opened
on the demo page reaches the queue live, messages go both ways, typing, internal notes, offline sends, escaping."""

from __future__ import annotations

import secrets
from typing import Any, Callable

from playwright.sync_api import expect

from tests.browser.conftest import App, screenshot

OpenAs = Callable[..., Any]


def hl(name: str) -> str:
    return f'[data-hl="{name}"]'


def open_widget_ticket(page: Any, subject: str, body: str) -> None:
    """Through the widget, as a customer does it: launcher → new request → subject, body → send."""
    page.locator(hl("launcher")).click()
    page.locator(hl("new-ticket")).click()
    page.locator(hl("subject")).fill(subject)
    page.locator(hl("body")).fill(body)
    page.locator(hl("submit")).click()
    expect(page.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_contain_text(body)


def open_in_dashboard(agent: Any, subject: str) -> None:
    agent.locator(hl("queue-item"), has_text=subject).click()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(subject)
    expect(agent.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_be_visible()


def customer_pair(open_as: OpenAs, plan: str = "pro") -> tuple[Any, Any, str]:
    """A customer on the demo page with a fresh ticket open in the widget, and an agent viewing it."""
    agent = open_as("agent", "agent1", "/dashboard")
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    customer = open_as("customer", plan, "/#chart")
    subject = f"Chart frozen {secrets.token_hex(3)}"
    open_widget_ticket(customer, subject, "The BTCUSD chart stopped updating.")
    expect(agent.locator(hl("queue-item"), has_text=subject)).to_be_visible()
    open_in_dashboard(agent, subject)
    return customer, agent, subject


def test_ticket_from_demo_page_appears_live_in_dashboard(app: App, open_as: OpenAs) -> None:
    agent = open_as("agent", "agent1", "/dashboard")
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    customer = open_as("customer", "premium", "/#chart")
    customer.locator('[data-tf="1h"]').click()
    subject = f"Order rejected {secrets.token_hex(3)}"
    screenshot(customer, "demo-page")
    open_widget_ticket(customer, subject, "My limit order on BTCUSD was rejected.")
    screenshot(customer, "widget-thread")

    item = agent.locator(hl("queue-item"), has_text=subject)
    expect(item).to_be_visible()  # pushed over /ws: the dashboard was never reloaded
    expect(item).to_have_attribute("data-plan", "premium")
    open_in_dashboard(agent, subject)
    # The ticket carries the page it came from and the host's context (symbol, timeframe).
    expect(agent.locator(hl("context"))).to_contain_text("#chart")
    expect(agent.locator(hl("context"))).to_contain_text('"timeframe":"1h"')
    screenshot(agent, "dashboard")
    assert customer.errors == [] and agent.errors == []
