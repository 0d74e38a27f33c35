"""The agents' queue updates: the newest known view of each ticket, published at most once per interval.

A busy thread must not cost a database read and a queue event per message: a message only moves its ticket's
last activity, so those changes are coalesced, and every ticket due goes out in the same loop tick (one pipelined
write on the Redis bus: one publish per queue channel, `Bus.publish_tickets`); status and assignment changes are
published at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import msgspec

from support.core.bus import Bus
from support.core.model import TicketView

log = logging.getLogger("helpline.queue")
KNOWN_TICKETS = 50_000


class QueueUpdates:
    def __init__(self, bus: Bus, interval_s: float = 0.25) -> None:
        self.bus = bus
        self.interval_s = interval_s
        self._views: OrderedDict[str, TicketView] = OrderedDict()
        self._due: set[str] = set()
        self._flush_at: asyncio.TimerHandle | None = None

    def held(self, ticket_id: str) -> TicketView | None:
        """The newest view this node holds, not a copy: for reading only."""
        return self._views.get(ticket_id)

    def known(self, ticket_id: str) -> TicketView | None:
        """A copy of the newest view this node knows, or None (then read the database)."""
        view = self._views.get(ticket_id)
        return None if view is None else msgspec.structs.replace(view)

    def remember(self, view: TicketView) -> None:
        """Keep a view, never letting an older one (e.g. from another node's event) undo newer activity."""
        held = self._views.get(view.id)
        if held is not None and held.last_seq > view.last_seq:
            view = msgspec.structs.replace(
                view, last_seq=held.last_seq, updated_at=max(held.updated_at, view.updated_at)
            )
        self._views[view.id] = view
        self._views.move_to_end(view.id)
        while len(self._views) > KNOWN_TICKETS:
            self._views.popitem(last=False)

    async def publish_now(self, view: TicketView) -> None:
        self.remember(view)
        await self.bus.publish_ticket(self._views[view.id])

    def publish_soon(self, view: TicketView) -> None:
        """Publish the ticket's newest view at the next flush: at most one event per ticket per interval."""
        self.remember(view)
        self._due.add(view.id)
        if self._flush_at is None:
            self._flush_at = asyncio.get_running_loop().call_later(self.interval_s, self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        due, self._due = self._due, set()
        views = [view for view in map(self._views.get, due) if view is not None]
        if views:
            task = asyncio.get_running_loop().create_task(self._publish_all(views))
            task.add_done_callback(_log_failure)

    async def _publish_all(self, views: list[TicketView]) -> None:
        # One batch: on Redis one publish per queue channel, which every node hears as one push, where a publish per
        # ticket had every node woken, parsed and decoded once per busy ticket (about once per message at 1 msg/s).
        await self.bus.publish_tickets(views)


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("publishing a queue update failed: %r", task.exception())
