"""Webhook signatures and retry delays, as plain functions."""

from __future__ import annotations

import random

from persistence.webhooks import backoff_s, signature, verify


def test_a_receiver_verifies_what_was_signed_and_nothing_else() -> None:
    body = b'{"id":"evt_1","type":"ticket.created"}'
    header = signature("whsec_secret-0123456789", 1_700_000_000, body)
    assert header.startswith("v1=") and len(header) == 3 + 64
    assert verify("whsec_secret-0123456789", "1700000000", body, header, now=1_700_000_010)
    assert not verify("whsec_other-secret-000", "1700000000", body, header, now=1_700_000_010)
    assert not verify("whsec_secret-0123456789", "1700000000", body + b" ", header, now=1_700_000_010)
    assert not verify("whsec_secret-0123456789", "1700000001", body, header, now=1_700_000_010)
    # An old (replayed) request is refused even with a good signature.
    assert not verify("whsec_secret-0123456789", "1700000000", body, header, now=1_700_001_000)


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 80), (10, 3600), (40, 3600)]:
        delays = [backoff_s(attempt, 10, 3600, rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), attempt
        assert len(set(delays)) > 1  # jitter: retries of many deliveries do not line up
