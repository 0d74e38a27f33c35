"""The expected reply time a customer is shown: estimated from the live queue ahead and recent first responses.

Pure functions over values; realtime/workflow.py gathers the numbers from the store and the presence room.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Mapping, Sequence

import msgspec

from support.core import policy
from support.core.business_hours import BusinessHours, add_business_seconds, business_seconds_between

DEFAULT_PICKUP_S = 5 * 60  # with no recent history: the time an agent takes to pick up and answer a ticket
THROUGHPUT_WINDOW_S = 6 * 3600  # first responses counted to measure how fast the team drains the queue
ROUND_TO_S = 60


class QueuedTicket(msgspec.Struct, frozen=True):
    """An active ticket still waiting for its first response, as the queue orders it."""

    plan: str
    created_at: datetime
    first_response_due: datetime | None


class Expected(msgspec.Struct):
    plan: str
    target_s: int | None
    expected_s: int | None
    queue_ahead: int
    notice: str | None


def queue_ahead(
    plan: str, now: datetime, waiting_paid: Sequence[QueuedTicket], waiting_free: int, due: datetime | None
) -> int:
    """How many waiting tickets come before a ticket of `plan` opened now, in the contract's queue order: paid
    tickets by their keys; every waiting free report was opened earlier, so it is ahead of a new free one only."""
    mine = policy.queue_key(due, policy.priority_for(plan), now)
    paid = sum(
        1
        for t in waiting_paid
        if policy.queue_key(t.first_response_due, policy.priority_for(t.plan), t.created_at) < mine
    )
    return paid + (waiting_free if due is None else 0)


# Below this many answers in the window the rate says more about a quiet hour than about the team's pace.
MIN_RESPONSES_FOR_RATE = 5


def expected_reply_s(
    ahead: int, recent_first_response_s: Sequence[float], responses_in_window: int, window_business_s: float
) -> float:
    """Business seconds until a new ticket is answered: the queue ahead drained at the recent rate of first
    responses, plus the quick end of recent first-response times (the time to pick up a ticket at the head)."""
    ordered = sorted(recent_first_response_s)
    pickup = ordered[len(ordered) // 4] if ordered else DEFAULT_PICKUP_S
    if ahead == 0:
        return pickup
    if responses_in_window >= MIN_RESPONSES_FOR_RATE and window_business_s > 0:
        per_ticket = window_business_s / responses_in_window
    else:
        # Nobody answered lately: assume tickets are taken one after another at the typical first-response time.
        per_ticket = median(ordered) if ordered else DEFAULT_PICKUP_S
    return ahead * per_ticket + pickup


def expected_for(
    plan: str,
    now: datetime,
    targets_s: Mapping[str, int],
    hours: BusinessHours,
    waiting_paid: Sequence[QueuedTicket],
    waiting_free: int,
    recent_first_response_s: Sequence[float],
    responses_in_window: int,
) -> Expected:
    """The answer of GET /api/support/expected. Free reports promise no reply, so they get the notice instead."""
    targets = dict(targets_s)
    due = policy.first_response_due_within(plan, now, targets, hours)
    ahead = queue_ahead(plan, now, waiting_paid, waiting_free, due)
    if plan not in targets:
        return Expected(plan, None, None, ahead, policy.FREE_PLAN_NOTICE)
    window_business_s = business_seconds_between(now - timedelta(seconds=THROUGHPUT_WINDOW_S), now, hours)
    business_s = expected_reply_s(ahead, recent_first_response_s, responses_in_window, window_business_s)
    # Business seconds become wall-clock seconds through the schedule: a ticket sent at night waits for morning.
    wall_s = (add_business_seconds(now, business_s, hours) - now).total_seconds()
    return Expected(plan, targets[plan], _round_up(wall_s), ahead, None)


def _round_up(seconds: float) -> int:
    return int(-(-max(seconds, 0) // ROUND_TO_S) * ROUND_TO_S) or ROUND_TO_S
