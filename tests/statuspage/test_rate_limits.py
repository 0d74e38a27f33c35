"""The subscription budgets' arithmetic (statuspage/rate_limits.py) on a hand-driven clock: the burst, the even
refill over the hour, and the wait a refusal reports."""

from __future__ import annotations

import pytest

from statuspage.rate_limits import HourlyBudgets, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_one_more_per_slice_of_the_hour_and_keys_are_apart() -> None:
    clock = Clock()
    budgets = HourlyBudgets(3, clock=clock)
    assert [budgets.take("a") for _ in range(3)] == [0, 0, 0]
    wait = budgets.take("a")
    assert wait == 1200  # 3 per hour: one back every 20 minutes
    assert retry_after(wait) == "1200" and budgets.take("b") == 0  # another key has its own budget
    clock.now += 1190
    assert budgets.take("a") == pytest.approx(10) and budgets.take("a") == pytest.approx(10)  # refusals spend nothing
    assert retry_after(0.2) == "1"  # never "0", which would invite an immediate retry
    clock.now += 11
    assert budgets.take("a") == 0 and budgets.take("a") > 0


def test_forgotten_keys_start_full_and_memory_stays_bounded() -> None:
    clock = Clock()
    budgets = HourlyBudgets(1, capacity=2, clock=clock)
    assert budgets.take("a") == 0 and budgets.take("a") > 0
    budgets.take("b"), budgets.take("c")  # "a" is the least recently used: forgotten
    assert len(budgets._buckets) == 2 and budgets.take("a") == 0
