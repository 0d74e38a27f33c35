"""What a reconnecting client does and checks, as plain values: the widget's jittered backoff and a seq ledger.

`widget_backoff_s` is widget/client.js `scheduleRetry` in Python; `SeqLedger` is what one client of one ticket saw,
so a gap or a repeat after a resume with `since` is counted, never guessed. No I/O here.
"""

from __future__ import annotations

import random

# widget/client.js: MIN_BACKOFF_MS, MAX_BACKOFF_MS; the delay is uniform in [ceiling / 2, ceiling).
MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 15.0


def widget_backoff_s(attempt: int, rand: float | None = None) -> float:
    """Delay before reconnect attempt `attempt` (0 after a welcome): ceiling = min(15 s, 0.5 s × 2^attempt)."""
    ceiling = min(MAX_BACKOFF_S, MIN_BACKOFF_S * 2**attempt)
    return ceiling / 2 + (random.random() if rand is None else rand) * (ceiling / 2)


class SeqLedger:
    """One client's view of one ticket: the highest seq seen, and every gap or repeat since its first join."""

    __slots__ = ("last", "gaps", "repeats")

    def __init__(self) -> None:
        self.last: int | None = None  # None until the first `joined`
        self.gaps = 0  # seqs that never arrived, counted one by one
        self.repeats = 0  # seqs that arrived twice (or out of order)

    def joined(self, message_seqs: list[int], last_seq: int) -> None:
        """A `joined` frame: on a first join only its `last_seq` counts (history before it is not owed); on a resume
        with `since` = self.last its messages must be exactly last+1 … last_seq."""
        if self.last is None:
            self.last = max([last_seq, *message_seqs])
            return
        for seq in message_seqs:
            self.message(seq)
        if last_seq > self.last:
            self.gaps += last_seq - self.last
            self.last = last_seq

    def message(self, seq: int) -> None:
        if self.last is None:
            return  # before the first join nothing is owed
        if seq <= self.last:
            self.repeats += 1
            return
        self.gaps += seq - self.last - 1
        self.last = seq
