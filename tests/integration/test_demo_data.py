"""`helpline up` with a secret it generated seeds the demo data (helpline/demo_data.py) through the product's own
services: the desk's queue lists tickets in every state, reports have figures, and a second `up` on the same
database seeds nothing more. With the operator's HELPLINE_SECRET nothing is seeded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from support.core.tokens import issue_token
from tests.security.test_secret_output import output_after_stop, start


def desk_view(base: str, agent_token: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    headers = {"authorization": f"Bearer {agent_token}"}
    queue = httpx.get(base + "/api/tickets?status=all&limit=100", headers=headers, timeout=10)
    report = httpx.get(base + "/api/reports?days=30", headers=headers, timeout=10)
    assert queue.status_code == 200 and report.status_code == 200, (queue.text, report.text)
    return queue.json()["tickets"], report.json()


def demo_up(tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    process, base = start("up", tmp_path, None)
    try:
        tokens = httpx.get(base + "/demo/tokens", timeout=10).json()
        tickets, report = desk_view(base, tokens["agent"])
        canned = httpx.get(
            base + "/api/canned", headers={"authorization": f"Bearer {tokens['agent']}"}, timeout=10
        ).json()
    finally:
        output_after_stop(process)
    return tickets, report, canned


def test_generated_secret_seeds_every_state_once(tmp_path: Path) -> None:
    tickets, report, canned = demo_up(tmp_path)
    assert {t["status"] for t in tickets} == {"open", "pending", "solved", "closed"}
    assert {t["plan"] for t in tickets} == {"free", "pro", "pro_plus", "premium"}
    assert any(t["first_response_breached"] is True for t in tickets)
    assert any(t["first_response_at"] for t in tickets)
    assert any(t["reviewed_at"] for t in tickets)
    assert any("Không rút được tiền" in t["subject"] for t in tickets)  # Vietnamese threads too
    total = report["total"]
    assert total["volume"] == len(tickets) and total["csat"]["count"] >= 3 and total["breaches"] >= 1
    assert total["first_response"]["count"] >= 1
    assert {"Greeting", "Lời chào"} <= {c["title"] for c in canned}

    again, report_again, canned_again = demo_up(tmp_path)  # the same database: nothing seeded twice
    assert sorted(t["id"] for t in again) == sorted(t["id"] for t in tickets)
    assert report_again["total"]["csat"]["count"] == total["csat"]["count"]
    assert len(canned_again) == len(canned)


def test_operator_secret_seeds_nothing(tmp_path: Path) -> None:
    operator = "operator-secret-" + "o" * 40
    process, base = start("up", tmp_path, operator)
    try:
        tickets, report = desk_view(base, issue_token(operator, "agent-alice", "Alice", "free", "agent"))
        canned = httpx.get(
            base + "/api/canned",
            headers={"authorization": f"Bearer {issue_token(operator, 'agent-alice', 'Alice', 'free', 'agent')}"},
            timeout=10,
        ).json()
    finally:
        output_after_stop(process)
    assert tickets == [] and report["total"]["volume"] == 0 and canned == []
