"""Coalesced queue updates: one event per ticket per interval, the newest view, every due ticket in one tick."""

from __future__ import annotations

import asyncio

from support.core.model import Customer, TicketView
from support.tickets.queue_updates import QueueUpdates


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[tuple[int, str, int]] = []  # (loop tick, ticket, last_seq)
        self.tick = 0

    async def publish_ticket(self, view: TicketView) -> None:
        self.published.append((self.tick, view.id, view.last_seq))

    async def publish_tickets(self, views: list[TicketView]) -> None:
        for one in views:
            await self.publish_ticket(one)


def view(ticket: str, last_seq: int) -> TicketView:
    return TicketView(
        id=ticket,
        subject="s",
        status="open",
        plan="free",
        priority=4,
        category="general",
        customer=Customer("c", "C"),
        assignee=None,
        created_at="2025-01-01T00:00:00.000Z",
        updated_at="2025-01-01T00:00:00.000Z",
        last_seq=last_seq,
        first_response_due=None,
    )


async def test_activity_is_coalesced_to_the_newest_view_once_per_ticket_and_published_in_one_tick() -> None:
    bus = RecordingBus()
    updates = QueueUpdates(bus, interval_s=0.1)  # type: ignore[arg-type]
    ticking = True

    async def count_ticks() -> None:
        while ticking:
            bus.tick += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_ticks())
    for ticket in ("t1", "t2", "t3"):  # activity spread over the interval
        for seq in range(1, 6):
            updates.publish_soon(view(ticket, seq))
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.15)
    ticking = False
    await counter
    assert sorted((t, s) for _, t, s in bus.published) == [("t1", 5), ("t2", 5), ("t3", 5)]
    assert len({tick for tick, _, _ in bus.published}) == 1  # issued together: one pipelined write on Redis

    updates.publish_soon(view("t1", 6))
    await asyncio.sleep(0.25)
    assert bus.published[-1][1:] == ("t1", 6) and len(bus.published) == 4
