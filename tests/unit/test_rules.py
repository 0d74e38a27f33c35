"""Ticket rules on their own: plans, due times, queue order, lifecycle, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.core import policy
from support.core.settings import DEFAULT_RESPONSE_TARGETS_S

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def test_plans_rank_premium_first() -> None:
    assert [policy.priority_for(p) for p in ("premium", "pro_plus", "pro", "free")] == [1, 2, 3, 4]


def test_first_response_due_follows_the_plan_target() -> None:
    due = {p: policy.first_response_due(p, T0, DEFAULT_RESPONSE_TARGETS_S) for p in policy.PRIORITY_BY_PLAN}
    assert due["premium"] == T0 + timedelta(hours=1)
    assert due["pro_plus"] == T0 + timedelta(hours=4)
    assert due["pro"] == T0 + timedelta(hours=12)
    assert due["free"] is None


def test_queue_orders_by_due_then_priority_then_age_and_free_last() -> None:
    targets = DEFAULT_RESPONSE_TARGETS_S
    tickets = [
        ("free-old", "free", T0 - timedelta(days=2)),
        ("pro-early", "pro", T0 - timedelta(hours=11)),  # due T0+1h
        ("premium-new", "premium", T0),  # due T0+1h, higher priority than pro-early
        ("pro_plus", "pro_plus", T0 - timedelta(hours=1)),  # due T0+3h
        ("free-new", "free", T0),
    ]
    ordered = sorted(
        tickets,
        key=lambda t: policy.queue_key(policy.first_response_due(t[1], t[2], targets), policy.priority_for(t[1]), t[2]),
    )
    assert [t[0] for t in ordered] == ["premium-new", "pro-early", "pro_plus", "free-old", "free-new"]


def test_status_moves_and_customer_reply_reopens() -> None:
    assert policy.can_transition("open", "pending") and policy.can_transition("solved", "closed")
    assert not policy.can_transition("closed", "open")
    assert policy.status_after_message("solved", "customer", False) == "open"
    assert policy.status_after_message("pending", "customer", False) == "open"
    assert policy.status_after_message("solved", "agent", False) == "solved"
    assert policy.status_after_message("open", "customer", False) == "open"


def test_visibility_and_sending() -> None:
    assert policy.can_view("u1", "customer", "u1") and not policy.can_view("u2", "customer", "u1")
    assert policy.can_view("a", "agent", "u1")
    assert not policy.can_see_message("customer", True) and policy.can_see_message("agent", True)
    assert policy.send_refusal("u1", "customer", "u1", "open", internal=True) == "forbidden"
    assert policy.send_refusal("u2", "customer", "u1", "open", internal=False) == "forbidden"
    assert policy.send_refusal("u1", "customer", "u1", "closed", internal=False) == "conflict"
    assert policy.send_refusal("a", "agent", "u1", "open", internal=True) is None
