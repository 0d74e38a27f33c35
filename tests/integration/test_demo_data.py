"""`helpline up` with a secret it generated seeds the demo data (helpline/demo_data.py) through the product's own
services: the desk's queue lists tickets in every state, reports have figures, and a second `up` on the same
database seeds nothing more. With the operator's HELPLINE_SECRET nothing is seeded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from helpline import demo_data
from support.core.tokens import issue_token
from tests.security.test_secret_output import output_after_stop, start


def desk_view(base: str, agent_token: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    headers = {"authorization": f"Bearer {agent_token}"}
    queue = httpx.get(base + "/api/tickets?status=all&limit=100", headers=headers, timeout=10)
    report = httpx.get(base + "/api/reports?days=30", headers=headers, timeout=10)
    assert queue.status_code == 200 and report.status_code == 200, (queue.text, report.text)
    return queue.json()["tickets"], report.json()


def listing(base: str, path: str, token: str) -> list[dict[str, Any]]:
    response = httpx.get(base + path, headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def demo_up(tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, list[dict[str, Any]]]]:
    process, base = start("up", tmp_path, None)
    try:
        agent = httpx.get(base + "/demo/tokens", timeout=10).json()["agent"]
        tickets, report = desk_view(base, agent)
        lists = {name: listing(base, f"/api/{name}", agent) for name in ("canned", "views", "macros", "signals")}
    finally:
        output_after_stop(process)
    return tickets, report, lists


def test_generated_secret_seeds_every_state_once(tmp_path: Path) -> None:
    tickets, report, lists = demo_up(tmp_path)
    assert len(tickets) == len(demo_data.TICKETS)  # every one seeded (a failure is only logged: the demo starts)
    assert {t["status"] for t in tickets} == {"open", "pending", "solved", "closed"}
    assert {t["plan"] for t in tickets} == {"free", "pro", "pro_plus", "premium"}
    assert any(t["first_response_breached"] is True for t in tickets)
    assert any(t["first_response_at"] for t in tickets)
    assert any(t["reviewed_at"] for t in tickets)
    assert any("Không rút được tiền" in t["subject"] for t in tickets)  # Vietnamese threads too
    total = report["total"]
    assert total["volume"] == len(tickets) and total["csat"]["count"] >= 3 and total["breaches"] >= 1
    assert total["first_response"]["count"] >= 1
    assert {"Greeting", "Lời chào"} <= {c["title"] for c in lists["canned"]}
    assert {"bug", "billing", "vip"} <= {tag for t in tickets for tag in t["tags"]}
    assert {"Missed first response", "Open bugs"} <= {v["name"] for v in lists["views"]}
    assert lists["macros"]  # desk1's demo macros
    assert any(signal["count"] >= 3 and "dark" in signal["title"].lower() for signal in lists["signals"])

    again, report_again, lists_again = demo_up(tmp_path)  # the same database: nothing seeded twice
    assert sorted(t["id"] for t in again) == sorted(t["id"] for t in tickets)
    assert report_again["total"]["csat"]["count"] == total["csat"]["count"]
    assert {k: len(v) for k, v in lists_again.items()} == {k: len(v) for k, v in lists.items()}


def test_operator_secret_seeds_nothing(tmp_path: Path) -> None:
    operator = "operator-secret-" + "o" * 40
    process, base = start("up", tmp_path, operator)
    try:
        agent = issue_token(operator, "agent-alice", "Alice", "free", "agent")
        tickets, report = desk_view(base, agent)
        lists = {name: listing(base, f"/api/{name}", agent) for name in ("canned", "views", "macros")}
    finally:
        output_after_stop(process)
    assert tickets == [] and report["total"]["volume"] == 0
    assert lists == {"canned": [], "views": [], "macros": []}
