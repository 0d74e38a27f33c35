"""What a connection needs of its gateway node: the one seam between a socket and the node that serves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from realtime import frames

if TYPE_CHECKING:
    from realtime.connection import Connection
    from realtime.hub import Hub
    from realtime.limits import ConnectionLimits
    from realtime.rate_budgets import RateBudgets
    from support.core.bus import Bus
    from support.core.settings import Settings
    from support.core.tokens import TokenVerifier


class Node(Protocol):
    """What a connection needs of its gateway node (realtime/dispatch.py `Gateway` is one): the settings, the
    hub it registers with, the bus for presence, the connection limits, and `handle` for every decoded frame."""

    settings: "Settings"
    hub: "Hub"
    bus: "Bus"
    connection_limits: "ConnectionLimits"
    budgets: "RateBudgets"
    verifier: "TokenVerifier"

    async def handle(self, connection: "Connection", frame: frames.ClientFrame) -> None: ...
