"""Presence on one node: the heartbeat loop that tells clients the node is alive and renews every local membership
(ticket members and the agents' queue room), so that with Redis a dead node's members expire on every other node.

What presence guarantees (join, leave, expiry) is the bus's (support/core/bus.py `Presence`); this only renews.
"""

from __future__ import annotations

import asyncio
import logging

from realtime import frames
from realtime.hub import Hub
from support.core.bus import Presence
from support.workflow.assignment import queue_memberships

log = logging.getLogger("helpline.gateway")


async def heartbeats(hub: Hub, presence: Presence, period_s: float) -> None:
    """Every heartbeat period: a heartbeat frame to every connection, then one renewal of every membership.

    Dead peers are found by the server's WebSocket pings (uvicorn), so quiet clients need not ping."""
    frame = frames.encode(frames.Heartbeat())
    while True:
        await asyncio.sleep(period_s)
        try:
            for connection in list(hub.connections):
                connection.push(frame)
            await presence.presence_refresh(hub.memberships() + queue_memberships(hub.queue_watchers))
        except Exception:
            log.exception("heartbeat round failed")
