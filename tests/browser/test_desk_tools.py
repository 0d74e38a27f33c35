"""The agent's desk in real Chromium (issue 20): tag chips added and seen live by another agent, the queue's tag
filter, search with its snippet and a saved view, the bulk bar, a macro, and the report charts and CSV download."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.browser.conftest import App, screenshot
from tests.browser.pages import expect, hl

pytestmark = pytest.mark.browser
OpenAs = Callable[..., Any]


def ticket(app: App, subject: str, body: str, plan: str = "pro") -> str:
    response = app.api("POST", "/api/tickets", app.tokens["customers"][plan], json={"subject": subject, "body": body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def item(page: Any, ticket_id: str) -> Any:
    return page.locator(f'{hl("queue-item")}[data-ticket="{ticket_id}"]')


def online_agent(open_as: OpenAs, key: str) -> Any:
    page = open_as("agent", key, "/dashboard")
    expect(page.locator(hl("connection"))).to_have_attribute("data-state", "online")
    return page


def test_tags_reach_another_agent_live_and_filter_the_queue_and_search_finds_the_thread(
    app: App, open_as: OpenAs
) -> None:
    word = f"zq{secrets.token_hex(4)}"
    tag = f"t{secrets.token_hex(3)}"
    tagged = ticket(app, f"Watchlist frozen {word}", f"My watchlist {word} stopped updating")
    other = ticket(app, f"Invoice {word}", "Where is my invoice?")
    alice, bob = online_agent(open_as, "agent1"), online_agent(open_as, "agent2")
    expect(item(bob, tagged)).to_be_visible()

    item(alice, tagged).click()
    expect(alice.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_be_visible()  # the ticket is loaded
    alice.locator(hl("tag-input")).fill(tag.upper())
    alice.locator(hl("tag-input")).press("Enter")
    expect(alice.locator(f"{hl('ticket-tags')} {hl('tag')}")).to_have_text([f"{tag}×"])
    expect(item(bob, tagged).locator(hl("tag"))).to_have_text([tag])  # live, over the queue channel

    bob.locator(hl("filter-tag")).select_option(tag)
    expect(bob.locator(hl("queue-item"))).to_have_count(1)
    expect(item(bob, other)).to_have_count(0)

    # The search's own filters stay folded under the box, so the queue's filters are the only ones in sight.
    expect(bob.locator(hl("search-status"))).to_be_hidden()
    expect(bob.locator(".queue-filters .caption")).to_have_text("Filter the queue")
    bob.locator(f"{hl('search-filters')} summary").click()
    expect(bob.locator(hl("search-status"))).to_be_visible()
    bob.locator(hl("search")).fill(f"{word} stopped")
    bob.locator(hl("search-submit")).click()
    results = bob.locator(hl("search-result"))
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-ticket", tagged)
    expect(results.first.locator(hl("search-snippet"))).to_contain_text("stopped updating")
    bob.locator(hl("save-view")).click()
    name = f"Frozen {word}"
    bob.locator(hl("view-name")).fill(name)
    bob.locator(hl("save-view-confirm")).click()
    expect(bob.locator(f"{hl('views')} option", has_text=name)).to_have_count(1)
    screenshot(bob, "dashboard-search-tags")

    alice.reload()  # the view is the team's: another agent picks it and gets the same results
    alice.locator(hl("views")).select_option(label=name)
    expect(alice.locator(hl("search"))).to_have_value(f"{word} stopped")
    expect(alice.locator(hl("search-result"))).to_have_count(1)
    expect(alice.locator(hl("search-tag"))).to_be_hidden()  # the view narrows by its words only: filters stay folded
    tagged_view = {"name": f"Tagged {word}", "filters": {"q": word, "tag": tag}}
    assert app.api("POST", "/api/views", app.tokens["agent"], json=tagged_view).status_code == 201
    alice.reload()
    alice.locator(hl("views")).select_option(label=f"Tagged {word}")
    expect(alice.locator(hl("search-tag"))).to_be_visible()  # what this one narrows by is unfolded, in sight
    expect(alice.locator(hl("search-tag"))).to_have_value(tag)
    expect(alice.locator(hl("search-result"))).to_have_count(1)
    results.first.click()
    expect(bob.locator(hl("ticket-subject"))).to_have_text(f"Watchlist frozen {word}")
    assert alice.errors == [] and bob.errors == []


def test_bulk_bar_tags_and_solves_the_selected_tickets_and_a_macro_replies_and_sets_the_ticket(
    app: App, open_as: OpenAs
) -> None:
    word = secrets.token_hex(3)
    ids = [ticket(app, f"Bulk {word} {i}", "Same problem here") for i in range(2)]
    agent = online_agent(open_as, "agent1")
    for ticket_id in ids:
        agent.locator(f'{hl("bulk-select")}[data-ticket="{ticket_id}"]').check()
    bar = agent.locator(hl("bulk-bar"))
    expect(bar).to_be_visible()
    expect(bar.locator(hl("bulk-count"))).to_have_text("2 selected")
    bar.locator(hl("bulk-tag")).fill(f"bulk-{word}")
    bar.locator(hl("bulk-tag-apply")).click()
    expect(agent.locator(hl("bulk-outcome"))).to_have_text("2 done")
    expect(bar).to_be_hidden()
    for ticket_id in ids:
        expect(item(agent, ticket_id).locator(hl("tag"))).to_have_text([f"bulk-{word}"])
    agent.locator(f'{hl("bulk-select")}[data-ticket="{ids[0]}"]').check()
    bar.locator(hl("bulk-solve")).click()
    expect(item(agent, ids[0])).to_have_attribute("data-status", "solved")
    expect(item(agent, ids[1])).to_have_attribute("data-status", "open")

    item(agent, ids[1]).click()
    expect(agent.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_be_visible()
    agent.locator(hl("macro")).select_option(label="Need more details")  # one of the demo's macros
    agent.locator(hl("apply-macro")).click()
    expect(agent.locator(f"{hl('thread')} {hl('message')}", has_text="Could you tell us the page")).to_be_visible()
    expect(agent.locator(f"{hl('ticket-tags')} {hl('tag')}", has_text="needs-info")).to_be_visible()
    expect(agent.locator(hl("status"))).to_have_value("pending")
    expect(agent.locator(hl("assign"))).to_be_disabled()  # assigned to the agent who applied it
    screenshot(agent, "dashboard-bulk-macro")
    assert agent.errors == []


def test_reports_draw_charts_over_time_and_by_tag_and_download_csv(app: App, open_as: OpenAs, tmp_path: Path) -> None:
    tag = f"r{secrets.token_hex(3)}"
    ticket_id = ticket(app, "Report me", "A report", plan="premium")
    assert (
        app.api("POST", f"/api/tickets/{ticket_id}/tags", app.tokens["agent"], json={"add": [tag]}).status_code == 200
    )
    # A few more tickets, tagged and answered, so the charts (and the README's screenshot of them) have something.
    for n, (plan, tags) in enumerate([("pro", ["billing"]), ("free", ["alerts", "billing"]), ("premium", ["alerts"])]):
        other = ticket(app, f"Seen {n}", "Details", plan=plan)
        app.api("POST", f"/api/tickets/{other}/tags", app.tokens["agent"], json={"add": tags})
        reply = {"body": "On it.", "client_id": secrets.token_hex(8)}
        assert app.api("POST", f"/api/tickets/{other}/messages", app.tokens["agent"], json=reply).status_code == 201
    page = open_as("agent", "agent1", "/reports")
    # Answered within seconds of opening: the table says so in seconds, not "0 min".
    pro_first_response = page.locator(f'{hl("report-table")} tbody tr[data-plan="pro"] td').nth(2)
    expect(pro_first_response).to_have_text(re.compile(r"^\d+ s$"))
    expect(page.locator(f"{hl('chart-first-response-trend')} svg")).to_be_visible()
    expect(page.locator(f"{hl('chart-met-trend')} svg circle").first).to_be_attached()
    expect(page.locator(f'{hl("chart-tags")} rect[data-label="{tag}"]')).to_be_attached()
    with page.expect_download() as download:
        page.locator(hl("export-csv")).click()
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("bucket_start,plan,volume,first_response_median_s")
    assert any(",premium," in line for line in lines[1:])
    with page.expect_download() as tags_download:
        page.locator(hl("export-tags-csv")).click()
    tags_file = tmp_path / "tags.csv"
    tags_download.value.save_as(tags_file)
    assert f"{tag},1" in tags_file.read_text().splitlines()
    screenshot(page, "reports-charts")
    page.locator(hl("chart-first-response-trend")).scroll_into_view_if_needed()
    screenshot(page, "reports-trends")
    assert page.errors == []
