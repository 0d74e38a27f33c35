"""The agent's desk in real Chromium (issue 20): the customer sidebar (never raw JSON), keyboard shortcuts and their
overlay, a draft that survives a reload, the SLA countdown's colours under a controlled clock, notifications with
permission granted and the title badge, and the team's status."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import App, screenshot
from tests.browser.pages import expect, hl, open_in_dashboard, open_widget_ticket

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]

ERRORS = [f"TypeError: cannot read properties of undefined (reading 'bars') at chart.js:{n}" for n in range(1, 6)]
CONTEXT = {
    "page": "chart",
    "symbol": "BTCUSD",
    "timeframe": "15m",
    "app_version": "4.2.1",
    "time_zone": "Asia/Ho_Chi_Minh",
    "client_errors": ERRORS,
    "layout": {"panels": 2, "theme": "dark"},
}
# Notifications the page creates, recorded as it makes them (the real constructor still runs).
RECORD_NOTIFICATIONS = """
  window.__notes = [];
  window.__asked = 0;
  const Real = window.Notification;
  if (Real) {
    const Recording = function (title, options) { window.__notes.push(title); return new Real(title, options); };
    Object.defineProperty(Recording, "permission", { get: () => Real.permission });
    Recording.requestPermission = (...a) => { window.__asked += 1; return Real.requestPermission(...a); };
    window.Notification = Recording;
  }
"""


def new_ticket(app: App, plan: str, subject: str, context: dict | None = None, page_url: str | None = None) -> dict:
    body: dict[str, Any] = {"subject": subject, "body": f"{subject}: details inside.", "category": "bug"}
    if context is not None:
        body["context"] = context
    if page_url:
        body["page_url"] = page_url
    r = app.api("POST", "/api/tickets", app.tokens["customers"][plan], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def dashboard(open_as: OpenAs, app: App, ticket: str | None = None, **context_args: Any) -> Any:
    page = open_as("agent", "agent1", "/dashboard" + (f"?ticket={ticket}" if ticket else ""), **context_args)
    expect(page.locator(hl("connection"))).to_have_attribute("data-state", "online")
    return page


def test_sidebar_shows_the_customer_their_tickets_and_the_context_laid_out(app: App, open_as: OpenAs) -> None:
    run = secrets.token_hex(3)
    earlier = new_ticket(app, "premium", f"Login loop {run}")
    callback = app.api(
        "POST",
        "/api/callbacks",
        app.tokens["customers"]["premium"],
        json={"phone": "+84 28 3822 1234", "preferred_time": "after 14:00"},
    )
    assert callback.status_code == 201, callback.text
    current = new_ticket(app, "premium", f"Chart blank {run}", CONTEXT, "https://app.example/chart#BTCUSD")
    agent = dashboard(open_as, app, current["id"])
    side = agent.locator(hl("sidebar"))
    expect(side.locator(hl("sidebar-name"))).to_have_text("Priya Premium")
    expect(side.locator(hl("sidebar-plan"))).to_have_text("premium")
    clock = side.locator(hl("local-time"))
    expect(clock).to_have_attribute("data-zone", "Asia/Ho_Chi_Minh")
    # The customer's wall clock (UTC+7), whatever zone this machine is in; a minute may turn while we look. The
    # browser's English shows it on a 12-hour clock ("01:23 PM"), so the afternoon is not "13:23".
    hanoi = datetime.now(timezone.utc).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    shown = clock.inner_text()
    assert any(f"{at:%H:%M}" in shown or f"{at:%I:%M %p}" in shown for at in (hanoi, hanoi + timedelta(minutes=1))), (
        shown
    )

    expect(side.locator(hl("ctx-page"))).to_contain_text("chart · https://app.example/chart#BTCUSD")
    expect(side.locator(hl("ctx-symbol"))).to_contain_text("BTCUSD")
    expect(side.locator(hl("ctx-timeframe"))).to_contain_text("15m")
    expect(side.locator(hl("ctx-app-version"))).to_contain_text("4.2.1")
    expect(side.locator(hl("ctx-other"))).to_contain_text("Panels: 2")
    errors = side.locator(hl("client-errors"))
    assert errors.evaluate("el => el.tagName") == "DETAILS"  # five errors: collapsed
    expect(errors.locator(hl("client-error")).first).to_be_hidden()
    errors.locator("summary").click()
    expect(errors.locator(hl("client-error"))).to_have_count(5)
    expect(errors.locator(hl("client-error")).nth(4)).to_have_text(ERRORS[4])

    expect(side.locator(hl("sidebar-callback"))).to_contain_text("+84 28 3822 1234 · after 14:00")
    link = side.locator(hl("sidebar-ticket"), has_text=earlier["subject"])
    expect(link).to_be_visible()
    expect(side.locator(hl("sidebar-ticket"), has_text=current["subject"])).to_have_count(0)  # the open one
    # Never raw JSON: neither the sidebar nor the ticket pane shows an object's braces and quotes.
    for text in (side.inner_text(), agent.locator("#ticket-pane").inner_text()):
        assert '{"' not in text and '":' not in text and "[object" not in text
    screenshot(agent, "dashboard-sidebar")
    link.click()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(earlier["subject"])
    expect(side).to_have_attribute("data-ticket", earlier["id"])
    expect(side.locator(hl("ctx-symbol"))).to_have_count(0)
    assert agent.errors == []


def test_the_widget_sends_the_customers_time_zone_for_the_sidebar(app: App, open_as: OpenAs) -> None:
    customer = open_as("customer", "pro", "/#chart", timezone_id="America/Sao_Paulo")
    subject = f"Zone {secrets.token_hex(3)}"
    open_widget_ticket(customer, subject, "Where am I?")
    agent = dashboard(open_as, app)
    open_in_dashboard(agent, subject)
    expect(agent.locator(hl("local-time"))).to_have_attribute("data-zone", "America/Sao_Paulo")
    expect(agent.locator(hl("ctx-time-zone"))).to_contain_text("America/Sao_Paulo")
    assert customer.errors == [] and agent.errors == []


def test_shortcuts_move_write_assign_and_solve_but_never_while_typing(app: App, open_as: OpenAs) -> None:
    run = secrets.token_hex(3)
    for n in range(2):
        new_ticket(app, "pro_plus", f"Shortcut {run} {n}")
    agent = dashboard(open_as, app)
    items = agent.locator(hl("queue-item"))
    expect(items.first).to_be_visible()
    agent.locator("body").press("?")
    overlay = agent.locator(hl("shortcuts"))
    expect(overlay).to_be_visible()
    for key in ("j", "k", "r", "n", "a", "s", "/", "?"):
        expect(overlay.locator(f'[data-key="{key}"]')).to_be_visible()
    screenshot(agent, "dashboard-shortcuts")
    agent.keyboard.press("Escape")
    expect(overlay).to_be_hidden()

    first, second = items.nth(0).get_attribute("data-ticket"), items.nth(1).get_attribute("data-ticket")
    rows = agent.locator(f"{hl('queue')} {hl('ticket-item')}")  # the contract's name for a queue row (§7)
    assert [rows.nth(0).get_attribute("data-ticket"), rows.nth(1).get_attribute("data-ticket")] == [first, second]
    agent.keyboard.press("j")
    expect(agent.locator(f'{hl("queue-item")}[aria-current="true"]')).to_have_attribute("data-ticket", first)
    agent.keyboard.press("j")
    expect(agent.locator(f'{hl("queue-item")}[aria-current="true"]')).to_have_attribute("data-ticket", second)
    agent.keyboard.press("k")
    expect(agent.locator(f'{hl("queue-item")}[aria-current="true"]')).to_have_attribute("data-ticket", first)
    expect(agent.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_be_visible()

    agent.keyboard.press("r")
    reply = agent.locator(hl("reply"))
    expect(reply).to_be_focused()
    agent.keyboard.type("just checking a s j k")  # letters in a field stay letters
    expect(reply).to_have_value("just checking a s j k")
    expect(agent.locator(f'{hl("queue-item")}[aria-current="true"]')).to_have_attribute("data-ticket", first)
    expect(agent.locator(hl("internal-toggle"))).not_to_be_checked()
    agent.keyboard.press("Escape")  # leaves the field
    agent.keyboard.press("n")
    expect(agent.locator(hl("internal-toggle"))).to_be_checked()
    expect(reply).to_be_focused()
    agent.keyboard.press("Escape")
    agent.keyboard.press("a")
    expect(agent.locator(hl("assign"))).to_have_text("Assigned: Alice (Support)")
    agent.keyboard.press("s")
    expect(agent.locator(hl("ticket-status"))).to_have_text("Solved")
    agent.keyboard.press("/")
    assert agent.evaluate("document.activeElement.dataset.hl") in ("search", "filter-status")
    assert agent.errors == []


def test_a_draft_survives_a_reload_per_ticket_and_is_cleared_on_send(app: App, open_as: OpenAs) -> None:
    run = secrets.token_hex(3)
    one = new_ticket(app, "pro", f"Draft one {run}")
    two = new_ticket(app, "pro", f"Draft two {run}")
    agent = dashboard(open_as, app, one["id"])
    expect(agent.locator(hl("ticket-subject"))).to_have_text(one["subject"])
    agent.locator(hl("reply")).fill("Half a thought about the spread")
    open_in_dashboard(agent, two["subject"])
    expect(agent.locator(hl("reply"))).to_have_value("")  # another ticket, its own (empty) draft
    agent.locator(hl("reply")).fill("Second draft")
    agent.reload()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(two["subject"])
    expect(agent.locator(hl("reply"))).to_have_value("Second draft")
    open_in_dashboard(agent, one["subject"])
    expect(agent.locator(hl("reply"))).to_have_value("Half a thought about the spread")
    agent.locator(hl("send")).click()
    expect(agent.locator(hl("message"), has_text="Half a thought")).to_be_visible()
    agent.reload()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(one["subject"])
    expect(agent.locator(f'{hl("thread")} {hl("message")}[data-seq="2"]')).to_be_visible()
    expect(agent.locator(hl("reply"))).to_have_value("")
    assert agent.errors == []


def test_sla_countdown_turns_amber_then_red_on_a_controlled_clock(app: App, open_as: OpenAs) -> None:
    ticket = new_ticket(app, "premium", f"Deadline {secrets.token_hex(3)}")  # premium: due in 1 h (24/7 here)
    due = datetime.fromisoformat(ticket["first_response_due"].replace("Z", "+00:00"))
    page = open_as("agent", "agent1", "/dashboard")
    page.clock.install(time=datetime.now(timezone.utc))  # the page's clock from now on is the test's to move
    page.goto(f"{app.url}/dashboard?ticket={ticket['id']}")
    sla = page.locator(f"#ticket-pane {hl('sla')}")
    expect(sla).to_have_attribute("data-state", "ok")
    expect(sla).to_contain_text("First reply due in")
    left = (due - datetime.now(timezone.utc)).total_seconds()
    page.clock.fast_forward(int((left - 10 * 60) * 1000))  # 10 minutes before due: the last quarter of 1 h
    expect(sla).to_have_attribute("data-state", "warning")
    row = page.locator(f'{hl("queue-item")}[data-ticket="{ticket["id"]}"] {hl("sla")}')
    expect(row).to_have_attribute("data-state", "warning")
    screenshot(page, "dashboard-sla-warning")
    page.clock.fast_forward(11 * 60 * 1000)
    expect(sla).to_have_attribute("data-state", "breached")
    expect(sla).to_contain_text("First reply overdue by")
    assert page.evaluate("getComputedStyle(document.querySelector('#ticket-pane [data-hl=sla]')).color") == (
        "rgb(183, 28, 28)"
    )
    # The longer overdue text wraps inside its queue card; it does not push the plan and due time out of it.
    page.clock.fast_forward(5 * 60 * 1000)
    card = f'{hl("queue-item")}[data-ticket="{ticket["id"]}"]'
    expect(page.locator(f"{card} {hl('sla')}")).to_contain_text(re.compile(r"overdue by \d+ min"))
    outside = page.evaluate(
        """(card) => { const box = document.querySelector(card).getBoundingClientRect();
          return [...document.querySelector(card).querySelectorAll('*')].filter((el) => {
            const r = el.getBoundingClientRect(); return r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5);
          }).map((el) => el.textContent); }""",
        card,
    )
    assert outside == []
    assert page.errors == []


def test_notifications_and_title_badge_for_new_tickets_and_replies(app: App, open_as: OpenAs) -> None:
    run = secrets.token_hex(3)
    mine = new_ticket(app, "pro", f"Needs me {run}")
    assigned = app.api("PATCH", f"/api/tickets/{mine['id']}", app.tokens["agent"], json={"assignee": "agent-alice"})
    assert assigned.status_code == 200
    agent = open_as("agent", "agent1", "/dashboard", permissions=["notifications"])
    agent.add_init_script(RECORD_NOTIFICATIONS)
    agent.reload()
    expect(agent.locator(hl("connection"))).to_have_attribute("data-state", "online")
    expect(agent.locator(hl("notify-enable"))).to_have_attribute("data-permission", "granted")
    expect(agent.locator(f'{hl("queue-item")}[data-ticket="{mine["id"]}"]')).to_be_visible()
    assert agent.title() == "Agent dashboard · Helpline"

    fresh = new_ticket(app, "pro_plus", f"Brand new {run}")
    expect(agent.locator(f'{hl("queue-item")}[data-ticket="{fresh["id"]}"]')).to_be_visible()
    expect(agent).to_have_title("(1) Agent dashboard · Helpline")
    posted = app.api(
        "POST",
        f"/api/tickets/{mine['id']}/messages",
        app.tokens["customers"]["pro"],
        json={"body": "Any news?", "client_id": f"c-{run}"},
    )
    assert posted.status_code in (200, 201), posted.text
    expect(agent).to_have_title("(2) Agent dashboard · Helpline")
    notes = agent.evaluate("window.__notes")
    assert f"New ticket: {fresh['subject']}" in notes and f"New reply: {mine['subject']}" in notes
    open_in_dashboard(agent, mine["subject"])
    expect(agent).to_have_title("(1) Agent dashboard · Helpline")
    open_in_dashboard(agent, fresh["subject"])
    expect(agent).to_have_title("Agent dashboard · Helpline")
    assert agent.evaluate("window.__asked") == 0  # already granted: never asked again
    assert agent.errors == []


def test_permission_is_asked_only_when_the_agent_clicks(app: App, open_as: OpenAs) -> None:
    agent = open_as("agent", "agent1", "/dashboard")
    agent.add_init_script(RECORD_NOTIFICATIONS)
    agent.reload()
    button = agent.locator(hl("notify-enable"))
    expect(button).to_have_attribute("data-permission", "default")
    expect(button).to_have_text("Enable notifications")
    assert agent.evaluate("window.__asked") == 0  # loading the page asks nothing
    button.click()
    agent.wait_for_function("window.__asked === 1")
    assert agent.errors == []


def test_team_status_and_capacity_show_live(app: App, open_as: OpenAs) -> None:
    alice = dashboard(open_as, app)
    bob = open_as("agent", "agent2", "/dashboard")
    expect(bob.locator(hl("connection"))).to_have_attribute("data-state", "online")
    bob_row = alice.locator(f'{hl("team-agent")}[data-agent="agent-bob"]')
    expect(bob_row).to_have_attribute("data-status", "online")
    bob.locator(hl("away")).check()
    expect(bob_row).to_have_attribute("data-status", "away")  # pushed to Alice's page, not reloaded
    bob.locator(hl("capacity")).fill("4")
    bob.locator(hl("capacity")).press("Tab")  # committed: the change event
    expect(bob_row).to_contain_text("/4 open")
    bob.locator(hl("away")).uncheck()
    expect(bob_row).to_have_attribute("data-status", "online")
    bob.context.close()
    expect(bob_row).to_have_count(0, timeout=20_000)
    assert alice.errors == []


@pytest.mark.parametrize("path", ["/dashboard", "/reports"])
def test_the_desk_and_its_reports_fit_a_phone(app: App, open_as: OpenAs, path: str) -> None:
    """An agent on call opens the desk on a phone: the page never scrolls sideways; the per-plan table scrolls
    inside its card instead."""
    new_ticket(app, "premium", f"From the road {secrets.token_hex(3)}")
    page = open_as("agent", "agent1", path, viewport={"width": 375, "height": 667}, is_mobile=True)
    ready = hl("queue-item") if path == "/dashboard" else f"{hl('report-table')} tbody tr"
    expect(page.locator(ready).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["x"] + header["width"] <= 375
    assert page.errors == []
