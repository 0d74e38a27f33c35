"""Due times, breaches, queue order and the expected reply time: pure functions on a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from support.core import policy
from support.core.business_hours import ALWAYS, parse_business_hours
from support.core.settings import DEFAULT_RESPONSE_TARGETS_S
from support.workflow.targets import QueuedTicket, expected_for, expected_reply_s, queue_ahead

UTC = timezone.utc
# Wednesday 2024-03-06 10:00 UTC (11:00 in Berlin).
NOW = datetime(2024, 3, 6, 10, 0, tzinfo=UTC)
OFFICE = parse_business_hours("Mon-Fri 09:00-18:00", "Europe/Berlin")


def due(plan: str, at: datetime, hours=ALWAYS) -> datetime | None:  # type: ignore[no-untyped-def]
    return policy.first_response_due_within(plan, at, DEFAULT_RESPONSE_TARGETS_S, hours)


def test_round_the_clock_due_times_follow_the_contract_defaults() -> None:
    assert due("premium", NOW) == NOW + timedelta(hours=1)
    assert due("pro_plus", NOW) == NOW + timedelta(hours=4)
    assert due("pro", NOW) == NOW + timedelta(hours=12)
    assert due("free", NOW) is None
    # The old 24/7 rule and the new one agree when no business hours are set.
    assert due("pro", NOW) == policy.first_response_due("pro", NOW, DEFAULT_RESPONSE_TARGETS_S)


def test_business_hours_stop_the_clock_overnight_and_on_weekends() -> None:
    # Wednesday 11:00 Berlin: premium's hour fits in the day, pro's 12 h spill into Thursday (7 h + 5 h).
    assert due("premium", NOW, OFFICE) == NOW + timedelta(hours=1)
    assert due("pro", NOW, OFFICE) == datetime(2024, 3, 7, 13, 0, tzinfo=UTC)  # Thu 14:00 Berlin
    # Friday 17:30 Berlin: half an hour left on Friday, the rest on Monday from 09:00.
    friday = datetime(2024, 3, 8, 16, 30, tzinfo=UTC)
    assert due("premium", friday, OFFICE) == datetime(2024, 3, 11, 8, 30, tzinfo=UTC)  # Mon 09:30 Berlin
    # Saturday: nothing counts until Monday 09:00.
    saturday = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    assert due("pro_plus", saturday, OFFICE) == datetime(2024, 3, 11, 12, 0, tzinfo=UTC)  # Mon 13:00 Berlin


def test_business_hours_keep_local_time_across_a_dst_change() -> None:
    # Berlin moves to summer time on Sunday 2024-03-31: Monday opens at 09:00 CEST = 07:00 UTC.
    friday = datetime(2024, 3, 29, 16, 0, tzinfo=UTC)  # Fri 17:00 CET
    assert due("pro_plus", friday, OFFICE) == datetime(2024, 4, 1, 10, 0, tzinfo=UTC)  # 1 h Fri + 3 h Mon


def test_queue_order_is_due_time_then_priority_then_age_with_free_last() -> None:
    at = {
        "premium": NOW,
        "pro_plus": NOW - timedelta(hours=3, minutes=30),
        "pro": NOW - timedelta(hours=20),
        "free": NOW - timedelta(days=2),
    }
    tickets = [(plan, due(plan, created), created) for plan, created in at.items()]
    ordered = sorted(tickets, key=lambda t: policy.queue_key(t[1], policy.priority_for(t[0]), t[2]))
    # pro_plus is due at 10:30, pro at 10:00 (20 h ago + 12 h is overdue... earliest), premium at 11:00.
    assert [t[0] for t in ordered] == ["pro", "pro_plus", "premium", "free"]


def test_breach_is_met_breached_or_still_running() -> None:
    d = NOW + timedelta(hours=1)
    assert policy.first_response_breached(d, NOW + timedelta(minutes=59), NOW) is False
    assert policy.first_response_breached(d, NOW + timedelta(minutes=61), NOW) is True
    assert policy.first_response_breached(d, None, NOW) is None
    assert policy.first_response_breached(d, None, NOW + timedelta(hours=2)) is True
    assert policy.first_response_breached(None, None, NOW + timedelta(days=9)) is None
    assert policy.resolution_seconds(NOW, NOW + timedelta(minutes=90)) == 5400


def waiting(plan: str, minutes_ago: int) -> QueuedTicket:
    created = NOW - timedelta(minutes=minutes_ago)
    return QueuedTicket(plan, created, due(plan, created))


def test_queue_ahead_counts_only_tickets_that_would_be_answered_first() -> None:
    queue = [waiting("premium", 10), waiting("pro", 60), waiting("pro", 700), waiting("pro_plus", 200)]
    # A new premium ticket is due in 1 h; the premium (due in 50 min), the old pro (20 min) and the pro_plus
    # (40 min) are due sooner, the recent pro (in 11 h) is not.
    assert queue_ahead("premium", NOW, queue, 5, due("premium", NOW)) == 3
    # A new pro ticket (due in 12 h) waits behind every paid ticket, never behind free ones.
    assert queue_ahead("pro", NOW, queue, 5, due("pro", NOW)) == 4
    # A new free report comes after all of them and after the 5 free reports already waiting.
    assert queue_ahead("free", NOW, queue, 5, None) == 9


def test_expected_reply_grows_with_the_queue_and_the_recent_pace() -> None:
    recent = [300.0, 600.0, 900.0, 1200.0]  # recent first responses took 5-20 min
    empty = expected_reply_s(0, recent, 12, 6 * 3600)
    busy = expected_reply_s(4, recent, 12, 6 * 3600)  # 12 answers in 6 h: one every 30 min
    assert empty == 600.0  # the quick end of recent first responses
    assert busy == 4 * 1800 + 600.0
    # Nobody answered in the window: tickets are taken one after another at the typical (median) time.
    assert expected_reply_s(2, recent, 0, 6 * 3600) == 2 * 750.0 + 600.0
    assert expected_reply_s(0, [], 0, 0) == 300  # no history: five minutes to pick a ticket up
    # One answer in six hours is a quiet hour, not a pace of six hours a ticket: the typical reply time counts.
    assert expected_reply_s(1, recent, 1, 6 * 3600) == expected_reply_s(1, recent, 0, 6 * 3600)


def test_expected_answer_for_paid_and_free_plans() -> None:
    queue = [waiting("premium", 10), waiting("pro", 60)]
    premium = expected_for("premium", NOW, DEFAULT_RESPONSE_TARGETS_S, ALWAYS, queue, 3, [600.0], 6)
    assert premium.plan == "premium" and premium.target_s == 3600 and premium.queue_ahead == 1
    assert premium.expected_s == 3600 + 600 and premium.notice is None  # one ahead at one per hour, plus pickup
    free = expected_for("free", NOW, DEFAULT_RESPONSE_TARGETS_S, ALWAYS, queue, 3, [600.0], 6)
    assert free.target_s is None and free.expected_s is None and free.queue_ahead == 5
    assert free.notice == policy.FREE_PLAN_NOTICE


def test_expected_reply_waits_for_opening_hours() -> None:
    saturday = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    answer = expected_for("premium", saturday, DEFAULT_RESPONSE_TARGETS_S, OFFICE, [], 0, [600.0], 0)
    # Ten business minutes after Monday 09:00 Berlin (08:00 UTC).
    assert answer.expected_s == int((datetime(2024, 3, 11, 8, 10, tzinfo=UTC) - saturday).total_seconds())


@pytest.mark.parametrize("spec", ["Mon-Fri 9-18", "Funday 09:00-10:00", "Mon 10:00-10:00", "Mon 25:00-26:00"])
def test_unreadable_business_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_business_hours(spec)


def test_business_hours_accept_lists_overnight_spans_and_24_7() -> None:
    assert parse_business_hours("24/7").always
    hours = parse_business_hours("Mon,Wed 09:00-12:00; Fri 22:00-02:00", "UTC")
    assert hours.week[0] == ((540, 720),) and hours.week[2] == ((540, 720),)
    assert hours.week[4] == ((1320, 1440),) and hours.week[5] == ((0, 120),)
    with pytest.raises(ValueError):
        parse_business_hours("Mon-Fri 09:00-18:00", "Mars/Olympus")
