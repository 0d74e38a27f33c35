"""Tags across gateway nodes on Redis: a tag added on one node reaches an agent on another at once, and that node's
later queue updates of the ticket keep carrying it (its held view followed the change)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.scaleout.cluster import Cluster, kept_alive, open_ticket, person
from tests.wsclient import Client


def tags_of(frame: dict[str, Any], ticket: str) -> list[str] | None:
    view = frame.get("ticket") if frame.get("type") == "ticket" else None
    return view.get("tags") if isinstance(view, dict) and view.get("id") == ticket else None


def last_seq_of(frame: dict[str, Any], ticket: str) -> int | None:
    view = frame.get("ticket") if frame.get("type") == "ticket" else None
    return view.get("last_seq") if isinstance(view, dict) and view.get("id") == ticket else None


async def test_a_tag_added_on_one_node_reaches_an_agent_on_another_live(cluster: Cluster) -> None:
    a, b = cluster.node(), cluster.node()
    cluster.worker()
    anna_token, alice_token, bob_token = person("anna"), person("alice", role="agent"), person("bob", role="agent")
    ticket = await open_ticket(a, anna_token)
    bob = await Client.connect(b.ws_url, bob_token)
    anna = await Client.connect(b.ws_url, anna_token)
    async with kept_alive(bob, anna):
        await bob.send({"type": "queue"})
        await bob.expect("queue")
        await anna.join(ticket)  # node b now holds the ticket's view
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            tagged = await http.post(
                f"/api/tickets/{ticket}/tags",
                headers={"authorization": f"Bearer {alice_token}"},
                json={"add": ["billing", "vip"]},
            )
        assert tagged.status_code == 200, tagged.text
        await bob.until(lambda frames: any(tags_of(f, ticket) == ["billing", "vip"] for f in frames))

        seen = len(bob.frames)
        await anna.say(ticket, "Any news?", client_id="anna-news")  # node b publishes the ticket's new activity
        await bob.until(lambda frames: any(last_seq_of(f, ticket) == 2 for f in frames[seen:]))
        later = [f for f in bob.frames[seen:] if last_seq_of(f, ticket) == 2]
        assert [tags_of(f, ticket) for f in later] == [["billing", "vip"]] * len(later)
    await bob.close()
    await anna.close()
