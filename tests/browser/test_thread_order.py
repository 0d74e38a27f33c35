"""Every surface (widget, Support tab, dashboard) shows the thread in seq order, each message once, whatever the order
things arrive in: after a network drop (the other side's messages come back in the rejoin, ours written offline is
acked after them) and on a slow uplink (a reply arrives live before our ack). A pending message waits at the end as
`sending`; once acked it takes its seq's place, not the place it was typed in."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Callable

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true) with the reason
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import App
from tests.browser.pages import hl

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]
MESSAGES = f"{hl('thread')} {hl('message')}"


@dataclass(frozen=True)
class Surface:
    """One surface as the test drives it: who looks at it, how it opens a ticket, where its reply box is."""

    name: str
    kind: str  # the demo picker's kind: "customer" or "agent"
    key: str  # the demo picker's user: a plan, or "agent1"
    composer_input: str

    def open(self, open_as: OpenAs, ticket_id: str, subject: str) -> Any:
        page = open_as(self.kind, self.key, "/" if self.name == "widget" else f"/{self.name}?ticket={ticket_id}")
        self.show(page, subject)
        return page

    def show(self, page: Any, subject: str) -> None:
        """The ticket's thread on screen: the full pages open it from the URL, the widget from its list."""
        if self.name == "widget":
            page.locator(hl("launcher")).click()
            page.locator(hl("ticket-item"), has_text=subject).click()

    def expect_online(self, page: Any, online: bool) -> None:
        connection = page.locator(hl("connection"))
        if self.name == "widget":  # the widget shows the line only while it is not live
            expect(connection).to_be_hidden() if online else expect(connection).to_be_visible()
        else:
            expect(connection).to_have_attribute("data-state", "online" if online else "offline")


SURFACES = [
    Surface("widget", "customer", "pro", "composer-input"),
    Surface("support", "customer", "pro", "composer-input"),
    Surface("dashboard", "agent", "agent1", "reply"),
]


def dom_seqs(page: Any) -> list[int]:
    return [int(s) for s in page.locator(MESSAGES).evaluate_all("els => els.map(e => e.dataset.seq || '0')")]


def new_ticket(app: App, subject: str) -> str:
    customer = app.tokens["customers"]["pro"]
    ticket = app.api("POST", "/api/tickets", customer, json={"subject": subject, "body": "No bids shown."})
    assert ticket.status_code == 201, ticket.text
    return str(ticket.json()["id"])


def tokens_of(app: App, surface: Surface) -> tuple[str, str]:
    """(the viewer's token, the other side's token)."""
    customer, agent = app.tokens["customers"]["pro"], app.tokens["agent"]
    return (customer, agent) if surface.kind == "customer" else (agent, customer)


def say(app: App, token: str, ticket_id: str, body: str) -> None:
    reply = app.api(
        "POST", f"/api/tickets/{ticket_id}/messages", token, json={"body": body, "client_id": secrets.token_hex(8)}
    )
    assert reply.status_code == 201, reply.text


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_thread_is_in_seq_order_after_a_network_drop(app: App, open_as: OpenAs, surface: Surface) -> None:
    mine, theirs = tokens_of(app, surface)
    subject = f"Order book empty {secrets.token_hex(3)}"
    ticket_id = new_ticket(app, subject)
    say(app, theirs, ticket_id, "Which symbol?")  # seq 2
    page = surface.open(open_as, ticket_id, subject)
    expect(page.locator(f'{MESSAGES}[data-seq="2"]')).to_contain_text("Which symbol?")
    surface.expect_online(page, True)

    page.context.set_offline(True)
    surface.expect_online(page, False)
    say(app, theirs, ticket_id, "Still there?")  # seq 3, while this page is away
    say(app, theirs, ticket_id, "Reloading the feed now.")  # seq 4
    page.locator(hl(surface.composer_input)).fill("ETHUSD, sent from the tunnel")
    page.locator(hl("send")).click()
    offline = page.locator(hl("message"), has_text="sent from the tunnel")
    expect(offline).to_have_attribute("data-state", "sending")
    expect(page.locator(MESSAGES).last).to_have_attribute("data-state", "sending")  # pending sits at the end

    page.context.set_offline(False)
    surface.expect_online(page, True)
    expect(offline).to_have_attribute("data-state", re.compile(r"^(sent|read)$"))
    history = app.api("GET", f"/api/tickets/{ticket_id}", mine).json()["messages"]
    assert [m["body"] for m in history][-1] == "ETHUSD, sent from the tunnel"
    expect(page.locator(MESSAGES)).to_have_count(len(history))
    expect(offline).to_have_attribute("data-seq", str(history[-1]["seq"]))
    # The DOM order is the seq order, each seq once, and nothing the viewer may see is missing.
    assert dom_seqs(page) == [m["seq"] for m in history]
    assert page.errors == []


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_reply_arriving_before_our_ack_stays_above_our_pending_message(
    app: App, open_as: OpenAs, surface: Surface
) -> None:
    mine, theirs = tokens_of(app, surface)
    subject = f"Stop loss ignored {secrets.token_hex(3)}"
    ticket_id = new_ticket(app, subject)
    held: list[str] = []
    routes: list[Any] = []

    def hold_sends(ws: Any) -> None:
        """A slow uplink: our `send` frames wait here; everything else, both ways, passes at once."""
        server = ws.connect_to_server()
        routes.append(server)
        ws.on_message(lambda frame: held.append(frame) if '"type":"send"' in frame else server.send(frame))

    page = surface.open(open_as, ticket_id, subject)
    page.route_web_socket("**/ws", hold_sends)
    page.reload()
    surface.show(page, subject)
    surface.expect_online(page, True)
    expect(page.locator(f'{MESSAGES}[data-seq="1"]')).to_be_visible()

    page.locator(hl(surface.composer_input)).fill("Set at 61,200")
    page.locator(hl("send")).click()
    pending = page.locator(hl("message"), has_text="Set at 61,200")
    expect(pending).to_have_attribute("data-state", "sending")
    say(app, theirs, ticket_id, "Which order id?")  # seq 2, live, while ours is still unacked
    expect(page.locator(f'{MESSAGES}[data-seq="2"]')).to_contain_text("Which order id?")
    expect(page.locator(MESSAGES).last).to_have_attribute("data-state", "sending")  # still at the end

    for _ in range(50):  # the frame leaves the page a moment after the click
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the send frame was not held back"
    for frame in held:
        routes[-1].send(frame)
    expect(pending).to_have_attribute("data-state", re.compile(r"^(sent|read)$"))
    history = app.api("GET", f"/api/tickets/{ticket_id}", mine).json()["messages"]
    expect(page.locator(MESSAGES)).to_have_count(len(history))
    expect(pending).to_have_attribute("data-seq", "3")
    assert dom_seqs(page) == [m["seq"] for m in history] == [1, 2, 3]
    assert page.errors == []
