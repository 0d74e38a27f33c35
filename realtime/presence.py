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
# Frames written per loop turn: a round wrote every connection's in one turn, part of the 40-90 ms a loaded node's
# loop stood still at each heartbeat in the soak (issue 18).
HEARTBEAT_SLICE = 200


async def heartbeats(hub: Hub, presence: Presence, period_s: float) -> None:
    """Every heartbeat period: a heartbeat frame to every connection, then one renewal of every membership.

    Dead peers are found by the server's WebSocket pings (uvicorn), so quiet clients need not ping."""
    frame = frames.encode(frames.Heartbeat())
    while True:
        await asyncio.sleep(period_s)
        try:
            connections = list(hub.connections)
            for start in range(0, len(connections), HEARTBEAT_SLICE):
                for connection in connections[start : start + HEARTBEAT_SLICE]:
                    connection.push(frame)
                await asyncio.sleep(0)  # deliveries go on between slices: a round is not one long stall
            await presence.presence_refresh(hub.memberships() + queue_memberships(hub.queue_watchers))
        except Exception:
            log.exception("heartbeat round failed")
