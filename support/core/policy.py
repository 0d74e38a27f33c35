"""Ticket rules: plans, priorities, response targets, lifecycle and visibility.

Plain functions over values; no I/O here, so every rule is tested on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Mapping, get_args

from support.core.business_hours import BusinessHours, add_business_seconds

PRIORITY_BY_PLAN: dict[str, int] = {"premium": 1, "pro_plus": 2, "pro": 3, "free": 4}
STATUSES = ("open", "pending", "solved", "closed")
ACTIVE_STATUSES = ("open", "pending")
Category = Literal["question", "bug", "billing", "account", "data", "other"]  # the API states them (OpenAPI enum)
CATEGORIES: tuple[str, ...] = get_args(Category)
# Allowed moves an agent may make by hand; a customer's reply reopens pending/solved tickets by itself.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"pending", "solved", "closed"}),
    "pending": frozenset({"open", "solved", "closed"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
FREE_PLAN_NOTICE = "Every report is read and acted on by our team; we reply only where a reply is needed."


def priority_for(plan: str) -> int:
    return PRIORITY_BY_PLAN[plan]


def first_response_due(plan: str, created_at: datetime, targets_s: Mapping[str, int]) -> datetime | None:
    """When the first agent reply is owed; None where the plan promises none (free)."""
    target = targets_s.get(plan)
    return None if target is None else created_at + timedelta(seconds=target)


def queue_key(
    first_response_due: datetime | None, priority: int, created_at: datetime
) -> tuple[bool, datetime, int, datetime]:
    """Contract order: due time first, then priority, then age; tickets with no due time come last."""
    return (first_response_due is None, first_response_due or created_at, priority, created_at)


def can_transition(current: str, new: str) -> bool:
    return new == current or new in TRANSITIONS.get(current, frozenset())


def status_after_message(status: str, author_role: str, internal: bool) -> str:
    """A customer's reply reopens a pending or solved ticket; nothing else changes the status by itself."""
    if author_role == "customer" and not internal and status in ("pending", "solved"):
        return "open"
    return status


def can_view(viewer_id: str, viewer_role: str, customer_id: str) -> bool:
    return viewer_role in ("agent", "admin") or viewer_id == customer_id


def can_see_message(viewer_role: str, internal: bool) -> bool:
    return not internal or viewer_role in ("agent", "admin")


def send_refusal(viewer_id: str, viewer_role: str, customer_id: str, status: str, internal: bool) -> str | None:
    """Why this user may not post to this ticket (an error code), or None when they may."""
    if not can_view(viewer_id, viewer_role, customer_id):
        return "forbidden"
    if internal and viewer_role not in ("agent", "admin"):
        return "forbidden"
    if status == "closed":
        return "conflict"
    return None


def is_first_response(author_role: str, internal: bool) -> bool:
    return author_role in ("agent", "admin") and not internal


def first_response_due_within(
    plan: str, created_at: datetime, targets_s: Mapping[str, int], hours: BusinessHours
) -> datetime | None:
    """The due time counted only inside the team's business hours (24/7 when it sets none); None for free."""
    target = targets_s.get(plan)
    return None if target is None else add_business_seconds(created_at, target, hours)


def first_response_breached(due: datetime | None, first_response_at: datetime | None, now: datetime) -> bool | None:
    """False when met, True when breached; None while the target still runs, or where the plan promises none."""
    if due is None:
        return None
    if first_response_at is not None:
        return first_response_at > due
    return True if now > due else None


def resolution_seconds(created_at: datetime, solved_at: datetime | None) -> int | None:
    return None if solved_at is None else max(0, round((solved_at - created_at).total_seconds()))


def can_rate(viewer_id: str, customer_id: str, status: str) -> str | None:
    """Why this user may not rate the ticket (an error code), or None: only its owner, only once it is solved."""
    if viewer_id != customer_id:
        return "forbidden"
    return None if status in ("solved", "closed") else "conflict"
