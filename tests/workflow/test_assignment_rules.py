"""Round-robin picks: in id order after the last one, wrapping, skipping the away and the customers."""

from __future__ import annotations

from support.workflow.assignment import available_agents, next_agent
from support.core.model import User


def test_round_robin_goes_in_id_order_and_wraps() -> None:
    agents = ["bob", "alice", "carl"]
    picks, last = [], None
    for _ in range(5):
        last = next_agent(agents, last)
        picks.append(last)
    assert picks == ["alice", "bob", "carl", "alice", "bob"]


def test_the_cursor_survives_agents_leaving() -> None:
    # The last pick was bob, who left: the next is the one after bob's place, not the first again.
    assert next_agent(["alice", "carl"], "bob") == "carl"
    assert next_agent([], "bob") is None


def test_away_agents_and_customers_are_not_available() -> None:
    online = [
        User("alice", "Alice", "agent"),
        User("bob", "Bob", "agent"),
        User("cust", "C", "customer"),
        User("alice", "Alice", "agent"),
    ]
    assert available_agents(online, away={"bob"}) == ["alice"]
