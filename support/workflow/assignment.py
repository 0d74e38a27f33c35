"""Automatic assignment: round-robin among the agents watching the queue, skipping the away ones and those who hold
as many active tickets as their capacity.

Online agents are the members of one presence room on the bus (`agents`), so every gateway node sees the same set;
`next_agent` is pure, the cursor it advances lives in the database (persistence/workflow_store.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from support.core.model import User

if TYPE_CHECKING:
    from support.core.bus import Bus

AGENTS_ROOM = "agents"  # a presence room, not a ticket: nobody ever joins it as a ticket


def next_agent(available: Iterable[str], last: str | None) -> str | None:
    """The agent after `last` in id order, wrapping around; None when nobody is available. Ordering by id (not
    by arrival) keeps the rotation fair when agents come and go, and the same on every node."""
    ordered = sorted(set(available))
    if not ordered:
        return None
    if last is None:
        return ordered[0]
    return next((a for a in ordered if a > last), ordered[0])


def available_agents(
    online: Sequence[User],
    away: set[str],
    capacities: Mapping[str, int] | None = None,
    loads: Mapping[str, int] | None = None,
) -> list[str]:
    """Online staff who are not away and below their capacity (active tickets assigned < capacity; no capacity set
    means no limit, a capacity of 0 takes the agent out of the rotation while still online)."""
    capacities = capacities or {}
    loads = loads or {}
    return sorted(
        {
            u.id
            for u in online
            if u.role in ("agent", "admin")
            and u.id not in away
            and (u.id not in capacities or loads.get(u.id, 0) < capacities[u.id])
        }
    )


async def watch_queue(bus: "Bus", connection_id: str, user: User) -> None:
    """An agent's connection asked for the queue: it is online for assignment until it goes away."""
    await bus.presence_join(AGENTS_ROOM, connection_id, user)


async def stop_watching(bus: "Bus", connection_id: str, user: User) -> None:
    await bus.presence_leave(AGENTS_ROOM, connection_id, user)


def queue_memberships(connections: Iterable[object]) -> list[tuple[str, str, User]]:
    """The presence entries of this node's queue watchers, renewed with the heartbeat (Redis expires the rest)."""
    found = []
    for c in connections:
        user = getattr(c, "public_user", None)
        if user is not None:
            found.append((AGENTS_ROOM, getattr(c, "id"), user))
    return found
