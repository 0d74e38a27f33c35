"""The customer's widget and the agent's dashboard in real Chromium against a real `helpline up`: a ticket opened
on the demo page reaches the queue live, messages go both ways, typing, internal notes, offline sends, escaping."""

from __future__ import annotations

import secrets
from typing import Any, Callable

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true) with the reason
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import App, screenshot

pytestmark = pytest.mark.browser
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
    customer = open_as("customer", "premium", "/#watchlist")
    expect(customer.locator("#watch-rows tr")).to_have_count(6)  # the host platform's own pages work alongside
    customer.locator("nav a[data-page=chart]").click()
    customer.locator('[data-tf="1h"]').click()
    subject = f"Order rejected {secrets.token_hex(3)}"
    screenshot(customer, "demo-page")
    open_widget_ticket(customer, subject, "My limit order on BTCUSD was rejected.")
    screenshot(customer, "widget-thread")

    item = agent.locator(hl("queue-item"), has_text=subject)
    expect(item).to_be_visible()  # pushed over /ws: the dashboard was never reloaded
    expect(item).to_have_attribute("data-plan", "premium")
    open_in_dashboard(agent, subject)
    # The ticket carries the page it came from and the host's context (symbol, timeframe), laid out in the sidebar.
    expect(agent.locator(hl("ctx-page"))).to_contain_text("#chart")
    expect(agent.locator(hl("ctx-timeframe"))).to_contain_text("1h")
    screenshot(agent, "dashboard")
    assert customer.errors == [] and agent.errors == []


def test_messages_typing_and_read_receipts_flow_live_both_ways(app: App, open_as: OpenAs) -> None:
    customer, agent, _ = customer_pair(open_as)
    expect(customer.locator(hl("presence"))).to_contain_text("Alice")  # the agent joined the thread

    agent.locator(hl("reply")).fill("Looking")
    expect(customer.locator(hl("typing"))).to_contain_text("Alice")
    expect(customer.locator(hl("typing"))).to_have_text("", timeout=15_000)  # she paused: it clears by itself

    agent.locator(hl("reply")).fill("Could you tell me which browser you use?")
    agent.locator(hl("send")).click()
    expect(customer.locator(hl("message"), has_text="which browser you use")).to_be_visible()
    expect(customer.locator(hl("typing"))).to_have_text("")

    customer.locator(hl("composer-input")).fill("Chromium, latest")
    expect(agent.locator(hl("typing"))).to_contain_text("Pat Pro")
    customer.locator(hl("send")).click()
    expect(agent.locator(hl("message"), has_text="Chromium, latest")).to_be_visible()
    expect(agent.locator(hl("typing"))).to_have_text("")
    # The agent has the thread open, so the customer's message goes from sent to read.
    expect(customer.locator(hl("message"), has_text="Chromium, latest")).to_have_attribute("data-state", "read")
    assert customer.errors == [] and agent.errors == []


def test_internal_note_never_appears_on_the_customers_page(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as)
    agent.locator(hl("internal-toggle")).check()
    agent.locator(hl("reply")).fill("NOTE-4411: refund approved by finance")
    agent.locator(hl("send")).click()
    note = agent.locator(hl("message"), has_text="NOTE-4411")
    expect(note).to_have_attribute("data-internal", "true")
    expect(note).to_have_attribute("data-state", "sent")
    agent.locator(hl("internal-toggle")).uncheck()
    agent.locator(hl("reply")).fill("Your refund is on its way.")
    agent.locator(hl("send")).click()

    expect(customer.locator(hl("message"), has_text="refund is on its way")).to_be_visible()
    expect(customer.locator(hl("thread"))).not_to_contain_text("NOTE-4411")
    # Nor in the Support tab, which reads the whole history over HTTP.
    support = customer.context.new_page()
    support.goto(app.url + "/support")
    support.locator(hl("ticket-item"), has_text=subject).click()
    expect(support.locator(hl("message"), has_text="refund is on its way")).to_be_visible()
    expect(support.locator(hl("thread"))).not_to_contain_text("NOTE-4411")


def test_message_sent_offline_is_delivered_once_after_reconnect(app: App, open_as: OpenAs) -> None:
    customer, agent, _ = customer_pair(open_as)
    expect(agent.locator(hl("presence"))).to_have_attribute("data-online", "true")

    customer.context.set_offline(True)
    expect(customer.locator(hl("connection"))).to_be_visible()
    # The socket is really gone, not just idle: the server sees the customer leave the ticket.
    expect(agent.locator(hl("presence"))).to_have_attribute("data-online", "false")
    customer.locator(hl("composer-input")).fill("Written on the train")
    customer.locator(hl("send")).click()
    mine = customer.locator(hl("message"), has_text="Written on the train")
    expect(mine).to_have_attribute("data-state", "sending")

    customer.context.set_offline(False)
    expect(mine).to_have_attribute("data-state", re_sent_or_read())
    expect(agent.locator(hl("message"), has_text="Written on the train")).to_have_count(1)
    expect(agent.locator(hl("presence"))).to_have_attribute("data-online", "true")
    ticket_id = agent.evaluate("new URLSearchParams(location.search).get('ticket')")
    history = app.api("GET", f"/api/tickets/{ticket_id}", app.tokens["agent"]).json()["messages"]
    assert [m["body"] for m in history].count("Written on the train") == 1
    expect(customer.locator(hl("message"), has_text="Written on the train")).to_have_count(1)


def test_a_reconnect_resumes_in_one_round_trip_and_misses_nothing(app: App, open_as: OpenAs) -> None:
    """After a network blip the widget sends its join right behind the hello, before any welcome, and once."""
    import json

    customer, agent, _ = customer_pair(open_as)
    wire: list[tuple[str, dict[str, Any]]] = []  # the new connection's frames, in order: ("out"|"in", frame)

    def record(ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda m: (wire.append(("out", json.loads(m))), server.send(m)))
        server.on_message(lambda m: (wire.append(("in", json.loads(m))), ws.send(m)))

    customer.route_web_socket("**/ws", record)  # the connection open now is not routed; the next one is
    customer.context.set_offline(True)
    expect(agent.locator(hl("presence"))).to_have_attribute("data-online", "false")
    agent.locator(hl("reply")).fill("Sent while you were away")
    agent.locator(hl("send")).click()
    customer.context.set_offline(False)

    expect(customer.locator(hl("message"), has_text="Sent while you were away")).to_have_count(1)
    expect(agent.locator(hl("presence"))).to_have_attribute("data-online", "true")
    ticket_id = agent.evaluate("new URLSearchParams(location.search).get('ticket')")
    sent = [frame for way, frame in wire if way == "out"]
    assert sent[0]["type"] == "hello", sent
    joins = [frame["ticket"] for frame in sent if frame["type"] == "join"]
    assert ticket_id in joins and len(joins) == len(set(joins)), sent  # every open ticket rejoined, each once
    first_answer = next(i for i, (way, _) in enumerate(wire) if way == "in")
    before_welcome = [frame for _, frame in wire[:first_answer]]
    assert {"type": "join", "ticket": ticket_id} in [
        {"type": f["type"], "ticket": f.get("ticket")} for f in before_welcome
    ]
    assert wire[first_answer][1]["type"] == "welcome"
    joined = next(frame for way, frame in wire if frame["type"] == "joined" and frame["ticket"] == ticket_id)
    assert [m["body"] for m in joined["messages"]] == ["Sent while you were away"]


def test_message_written_offline_survives_a_reload_and_is_sent_once(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as)
    blocked = {"on": True}

    def gate(ws: Any) -> None:
        if blocked["on"]:
            ws.close()  # the server is unreachable: every reconnect fails
        else:
            ws.connect_to_server()

    customer.route_web_socket("**/ws", gate)
    customer.context.set_offline(True)
    customer.locator(hl("composer-input")).fill("Kept across reload")
    customer.locator(hl("send")).click()
    customer.context.set_offline(False)
    customer.reload()
    customer.locator(hl("launcher")).click()
    customer.locator(hl("ticket-item"), has_text=subject).click()
    mine = customer.locator(hl("message"), has_text="Kept across reload")
    expect(mine).to_have_attribute("data-state", "sending")  # from localStorage; the socket is still refused

    blocked["on"] = False
    customer.context.set_offline(True)  # a network blip: the online event makes the widget retry now
    customer.context.set_offline(False)
    expect(mine).to_have_attribute("data-state", re_sent_or_read())
    expect(agent.locator(hl("message"), has_text="Kept across reload")).to_have_count(1)
    expect(customer.locator(hl("message"), has_text="Kept across reload")).to_have_count(1)
    assert customer.evaluate("Object.keys(localStorage).filter(k => k.startsWith('helpline.outbox.'))") == []


def test_support_tab_lists_ticket_and_its_history_after_reload(app: App, open_as: OpenAs) -> None:
    customer, agent, subject = customer_pair(open_as, plan="pro_plus")
    agent.locator(hl("reply")).fill("We restarted the price feed.")
    agent.locator(hl("send")).click()
    expect(customer.locator(hl("message"), has_text="restarted the price feed")).to_be_visible()

    support = customer.context.new_page()
    support.goto(app.url + "/support")
    item = support.locator(hl("ticket-item"), has_text=subject)
    expect(item).to_be_visible()
    expect(item.locator(hl("status"))).to_have_text("Open")
    item.click()
    expect(support.locator(hl("message"))).to_have_count(2)
    support.reload()  # the URL names the ticket: it opens again, its history read back from the server
    expect(support.locator(hl("message"), has_text="The BTCUSD chart stopped updating.")).to_be_visible()
    expect(support.locator(hl("message"), has_text="restarted the price feed")).to_be_visible()
    screenshot(support, "support-tab")

    # Readable without a live connection: /ws refused, the history still comes over HTTP.
    support.route_web_socket("**/ws", lambda ws: ws.close())
    support.reload()
    expect(support.locator(hl("message"), has_text="restarted the price feed")).to_be_visible()
    expect(support.locator(hl("ticket-item"), has_text=subject)).to_be_visible()


def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(app: App, open_as: OpenAs) -> None:
    customer, agent, _ = customer_pair(open_as)
    dialogs: list[str] = []
    for page in (customer, agent):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    payload = "<img src=x onerror=alert(1)>"
    customer.locator(hl("composer-input")).fill(payload)
    customer.locator(hl("send")).click()
    for page in (customer, agent):
        shown = page.locator(hl("message"), has_text="onerror")
        expect(shown.locator(".body")).to_have_text(payload)
        assert page.locator(f"{hl('thread')} img").count() == 0
    agent.reload()  # and again when the history is read back over HTTP
    expect(agent.locator(hl("message"), has_text="onerror").locator(".body")).to_have_text(payload)
    assert agent.locator(f"{hl('thread')} img").count() == 0
    customer.wait_for_timeout(300)  # give a would-be onerror handler its chance to fire
    assert dialogs == []


def test_launcher_counts_unread_replies_while_the_widget_is_closed(app: App, open_as: OpenAs) -> None:
    customer, agent, _ = customer_pair(open_as)
    customer.evaluate("() => { window.counts = []; Helpline.on('unread', n => window.counts.push(n)); }")
    customer.locator(hl("close")).click()
    for text in ("First answer", "Second answer"):
        agent.locator(hl("reply")).fill(text)
        agent.locator(hl("send")).click()
    expect(customer.locator(hl("unread"))).to_have_text("2")
    assert customer.evaluate("window.counts.at(-1)") == 2
    customer.locator(hl("launcher")).click()
    expect(customer.locator(hl("message"), has_text="Second answer")).to_be_visible()
    expect(customer.locator(hl("unread"))).to_be_hidden()
    assert customer.evaluate("window.counts.at(-1)") == 0

    # Away from the page, a third answer arrives; back on the page, the server's read cursor counts it.
    customer.goto("about:blank")
    agent.locator(hl("reply")).fill("Third answer")
    agent.locator(hl("send")).click()
    expect(agent.locator(hl("message"), has_text="Third answer")).to_have_attribute("data-state", "sent")
    customer.goto(app.url + "/")
    expect(customer.locator(hl("unread"))).to_have_text("1")


def re_sent_or_read() -> Any:
    import re

    return re.compile(r"^(sent|read)$")


def test_dashboard_shows_collision_assignment_status_and_draft_warning(app: App, open_as: OpenAs) -> None:
    customer, alice, subject = customer_pair(open_as)
    ticket_id = alice.evaluate("new URLSearchParams(location.search).get('ticket')")
    bob = open_as("agent", "agent2", f"/dashboard?ticket={ticket_id}")
    expect(bob.locator(hl("ticket-subject"))).to_have_text(subject)
    expect(alice.locator(hl("collision"))).to_contain_text("Bob")  # another agent is in the ticket

    bob.locator(hl("internal-toggle")).check()
    bob.locator(hl("reply")).fill("I can take this one")
    expect(alice.locator(hl("collision"))).to_contain_text("typing")
    expect(customer.locator(hl("typing"))).to_have_text("")  # a note being typed is not shown to the customer

    alice.locator(hl("assign")).click()
    expect(alice.locator(hl("assign"))).to_contain_text("Alice")
    alice.locator(hl("filter-mine")).check()
    expect(alice.locator(hl("queue-item"), has_text=subject)).to_be_visible()
    alice.locator(hl("status")).select_option("pending")
    expect(bob.locator(hl("queue-item"), has_text=subject)).to_have_attribute("data-status", "pending")  # live

    alice.locator(hl("reply")).fill("Draft: have you tried")
    customer.locator(hl("composer-input")).fill("Actually it works again now")
    customer.locator(hl("send")).click()
    expect(alice.locator(hl("draft-warning"))).to_be_visible()
    # The customer's reply reopens the ticket.
    expect(alice.locator(hl("queue-item"), has_text=subject)).to_have_attribute("data-status", "open")
    screenshot(alice, "dashboard-collision")
    assert alice.errors == [] and bob.errors == []
