"""Token buckets and connection counters on a fixed clock."""

from __future__ import annotations

from realtime.limits import BucketsByKey, ConnectionCounter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 0.5
    assert bucket.take() and not bucket.take()
    clock.now = 100
    assert sum(bucket.take() for _ in range(10)) == 3


def test_buckets_are_per_key() -> None:
    clock = Clock()
    buckets = BucketsByKey(rate=1, burst=1, clock=clock)
    assert buckets.take("a") and not buckets.take("a") and buckets.take("b")


def test_connection_counter_has_a_ceiling_and_releases() -> None:
    counter = ConnectionCounter(2)
    assert counter.acquire("u") and counter.acquire("u") and not counter.acquire("u")
    counter.release("u")
    assert counter.acquire("u")
