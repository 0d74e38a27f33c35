"""A scale-out deployment for tests: gateway nodes and workers on one Redis prefix and one PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any, AsyncIterator

import httpx

from persistence.store import TicketStore
from support.core.tokens import issue_token
from support.core.model import Message
from tests.scaleout.processes import Worker
from tests.services import SECRET, Gateway
from tests.wsclient import Client

HEARTBEAT_S = 1.0
PRESENCE_TTL_S = 1.5


class Cluster:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.prefix = f"hltest-{secrets.token_hex(6)}"
        self.env = {
            "HELPLINE_KEY_PREFIX": self.prefix,
            "HELPLINE_HEARTBEAT_S": str(HEARTBEAT_S),
            "HELPLINE_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
            "HELPLINE_TYPING_TTL_S": "3",
            "HELPLINE_FRAME_RATE_PER_S": "100000",
            "HELPLINE_FRAME_BURST": "100000",
            "HELPLINE_WORKER_CLAIM_IDLE_S": "1",
        }
        self.nodes: list[Gateway] = []
        self.workers: list[Worker] = []

    def node(self) -> Gateway:
        gateway = Gateway(self.database_url, self.redis_url, **self.env).start()
        self.nodes.append(gateway)
        return gateway

    def worker(self) -> Worker:
        worker = Worker(self.database_url, self.redis_url, self.prefix, **self.env).start()
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for node in self.nodes:
            node.stop()


def person(sub: str, role: str = "customer", plan: str = "pro") -> str:
    return issue_token(SECRET, f"{sub}-{secrets.token_hex(3)}", sub.title(), plan, role)


async def open_ticket(node: Gateway, customer: str) -> str:
    async with httpx.AsyncClient(base_url=node.url) as http:
        response = await http.post(
            "/api/tickets",
            headers={"Authorization": f"Bearer {customer}"},
            json={"subject": "Orders stuck", "body": "My limit order is stuck.", "category": "bug"},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


async def history(database_url: str, ticket: str) -> list[Message]:
    store = TicketStore(database_url)
    try:
        return await store.messages_after(ticket, 0, 100_000, include_internal=True)
    finally:
        await store.close()


async def wait_for_history(database_url: str, ticket: str, count: int, timeout: float = 30.0) -> list[Message]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        messages = await history(database_url, ticket)
        if len(messages) >= count or asyncio.get_running_loop().time() > deadline:
            return messages
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def kept_alive(*clients: Client) -> AsyncIterator[None]:
    """Clients that ping, as the widget does, so a short test heartbeat does not close them as silent."""

    async def ping(client: Client) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S / 2)
            with contextlib.suppress(Exception):
                await client.send({"type": "ping"})

    tasks = [asyncio.create_task(ping(c)) for c in clients]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()


def seen_seqs(client: Client, ticket: str) -> list[int]:
    joined = [m["seq"] for f in client.of_type("joined", ticket=ticket) for m in f["messages"]]
    return joined + [f["seq"] for f in client.of_type("message", ticket=ticket)]


def frames(client: Client, type_: str, **match: Any) -> list[dict[str, Any]]:
    return client.of_type(type_, **match)
