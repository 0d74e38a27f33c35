"""The gateway's own WebSocket server protocol (realtime/ws_server.py) against uvicorn's stock one.

Frames written straight to the socket must be exactly what the WebSocket library would have framed, and a client
must see the same conversation whichever server the app runs under (the app falls back to ASGI sends elsewhere).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn
import websockets.http11
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from realtime import frames
from helpline.app import create_app
from helpline.cli import uvicorn_config
from support.core.settings import Settings
from realtime.server import EXTENSION, HelplineWebSocketProtocol
from tests.services import SECRET, auth, free_port, migrate, token
from tests.wsclient import Client


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000])
def test_a_ready_made_frame_is_what_the_websocket_library_reads(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    reader = StreamReader()
    reader.feed_data(frames.text_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.TEXT and frame.fin and bytes(frame.data) == payload


@dataclasses.dataclass
class Node:
    url: str
    ws_url: str
    protocol: str
    server: uvicorn.Server


@pytest.fixture(params=["helpline", "websockets-sansio"])
def node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Node]:
    url = f"sqlite+aiosqlite:///{tmp_path}/ws.db"
    migrate(url)
    port = free_port()
    settings = Settings(secret=SECRET, database_url=url, port=port, frame_rate_per_s=5000, frame_burst=20000)
    config = uvicorn_config(create_app(settings), "127.0.0.1", port, settings)
    if request.param != "helpline":
        config.ws = request.param
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "gateway did not start"
        time.sleep(0.02)
    try:
        yield Node(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", request.param, server)
    finally:
        server.should_exit = True
        thread.join(15)


def conversation_shape(frames: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a person sees, without ids and times that differ from run to run."""
    return [
        (f["type"], f.get("body"), f.get("seq"), f.get("active"), f.get("online"))
        for f in frames
        if f["type"] not in ("heartbeat",)
    ]


async def converse(node: Node) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    run = uuid.uuid4().hex[:6]
    anna, alice = token(f"anna-{run}", "pro", name="Anna"), token(f"alice-{run}", role="agent", name="Alice")
    async with httpx.AsyncClient(base_url=node.url) as http:
        r = await http.post("/api/tickets", headers=auth(anna), json={"subject": "Orders", "body": "Stuck order"})
        assert r.status_code == 201, r.text
        ticket = r.json()["id"]
    customer = await Client.connect(node.ws_url, anna)
    agent = await Client.connect(node.ws_url, alice)
    try:
        await customer.send({"type": "join", "ticket": ticket})
        await customer.expect("joined")
        await agent.send({"type": "join", "ticket": ticket})
        await agent.expect("joined")
        await customer.expect("presence", online=True)
        await agent.send({"type": "typing", "ticket": ticket, "active": True})
        await customer.expect("typing", active=True)
        for i in range(20):
            await customer.send({"type": "send", "ticket": ticket, "client_id": f"c{i}", "body": f"line {i} " * 30})
        await agent.send({"type": "send", "ticket": ticket, "client_id": "a0", "body": "Looking into it"})
        await customer.until(lambda frames: sum(f["type"] == "message" for f in frames) == 21)
        await agent.until(lambda frames: sum(f["type"] == "message" for f in frames) == 21)
        await asyncio.sleep(0.2)
        return customer.frames, agent.frames
    finally:
        await customer.ws.close()
        await agent.ws.close()


async def test_the_same_conversation_under_either_server(node: Node) -> None:
    customer, agent = await converse(node)
    sent = [f"line {i} " * 30 for i in range(20)]
    thread = [f["body"] for f in customer if f["type"] == "message"]
    assert [body for body in thread if body != "Looking into it"] == sent and "Looking into it" in thread
    assert [f["body"] for f in agent if f["type"] == "message"] == thread  # one order for everybody
    assert [f["seq"] for f in agent if f["type"] == "message"] == list(range(2, 23))
    # Every ack comes before the sender's own message, under both servers.
    order = [(f["type"], f.get("client_id")) for f in customer if f["type"] in ("ack", "message")]
    for i in range(20):
        assert order.index(("ack", f"c{i}")) < order.index(("message", f"c{i}"))
    shape = conversation_shape(customer)
    assert shape[0][0] == "welcome" and shape[1][0] == "joined"
    async with httpx.AsyncClient(base_url=node.url) as http:
        metrics = (await http.get("/metrics")).text
    sent_frames = next(
        float(line.split()[1]) for line in metrics.splitlines() if line.startswith("helpline_frames_out_total")
    )
    assert sent_frames >= len(customer) + len(agent) - 2  # every frame they got was counted (heartbeats aside)


async def test_the_gateway_protocol_offers_raw_frames_and_stock_uvicorn_does_not(node: Node) -> None:
    assert uvicorn_config(object(), "127.0.0.1", 1, Settings(secret=SECRET)).ws is HelplineWebSocketProtocol
    client = await Client.connect(node.ws_url, token(f"u-{uuid.uuid4().hex[:6]}"))
    try:
        (connection,) = [c for c in node.server.server_state.connections if getattr(c, "scope", None)]
        assert (EXTENSION in connection.scope["extensions"]) == (node.protocol == "helpline")
    finally:
        await client.ws.close()


def http_protocols_alive() -> int:
    """uvicorn's HTTP protocol objects the interpreter holds (by type name: gc also lists dead weak proxies)."""
    return sum(type(o).__name__ in ("HelplineHttpProtocol", "HttpToolsProtocol") for o in gc.get_objects())


async def test_a_closed_connection_is_freed_without_the_cyclic_collector(node: Node) -> None:
    """A full collection walks what a node holds (issue 18); a closed connection left in a reference cycle waits
    for it, and would never be freed at all once frozen. Round after round, every protocol object of a closed
    connection goes with its last reference, the collector off."""
    if node.protocol != "helpline":
        pytest.skip("the stock protocol's websockets parser keeps its cycle: the gateway does not serve with it")
    run = uuid.uuid4().hex[:6]
    anna = token(f"anna-{run}", "pro")
    async with httpx.AsyncClient(base_url=node.url) as http:
        r = await http.post("/api/tickets", headers=auth(anna), json={"subject": "Orders", "body": "Stuck order"})
        ticket = r.json()["id"]
    state = node.server.server_state
    gc.collect()
    http_sides = http_protocols_alive()  # the upgraded connections' HTTP protocols must go with them too
    gc.disable()
    try:
        for _ in range(3):
            clients = [await Client.connect(node.ws_url, token(f"agent{i}-{run}", role="agent")) for i in range(10)]
            for client in clients:
                await client.join(ticket)
            protocols = [weakref.ref(c) for c in state.connections if getattr(c, "scope", None)]
            assert len(protocols) == 10
            for client in clients:
                await client.close()
            while state.connections or state.tasks:  # the server's side of each close, then its app task
                await asyncio.sleep(0.02)
            del clients
            assert [ref() for ref in protocols if ref() is not None] == []
            assert http_protocols_alive() == http_sides
    finally:
        gc.enable()


KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key, whose accept value the RFC gives
UPGRADE = f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
HANDSHAKES = {
    "plain": (f"GET /ws HTTP/1.1\r\nHost: h\r\n{UPGRADE}\r\n", 101),
    "a header value beyond ASCII": (f"GET /ws HTTP/1.1\r\nHost: h\r\nX-Name: Zoë\r\n{UPGRADE}\r\n", 101),
    "no key": (
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
        400,
    ),
    "an old version": (f"GET /ws HTTP/1.1\r\nHost: h\r\n{UPGRADE.replace('Version: 13', 'Version: 8')}\r\n", 400),
    "not GET": (f"POST /ws HTTP/1.1\r\nHost: h\r\n{UPGRADE}\r\n", 405),
    "a body": (f"GET /ws HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n{UPGRADE}\r\nhello", 400),
    "a header line too long": (f"GET /ws HTTP/1.1\r\nHost: h\r\nX-Long: {'a' * 9000}\r\n{UPGRADE}\r\n", 431),
    "too many headers": (
        "GET /ws HTTP/1.1\r\nHost: h\r\n" + "".join(f"X-H{i}: v\r\n" for i in range(200)) + UPGRADE + "\r\n",
        431,
    ),
}


async def status_of(node: Node, request: str) -> tuple[int, bytes]:
    """The status code a raw handshake request gets, and the response's head."""
    port = int(node.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request.encode("latin-1"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        return int(head.split(b" ", 2)[1]), head
    finally:
        writer.close()


@pytest.mark.parametrize("case", list(HANDSHAKES))
async def test_a_handshake_is_answered_as_the_websocket_library_answers_it(
    node: Node, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway hands httptools' parsed request straight to websockets (realtime/server.py); what is out of the
    ordinary still goes through websockets' own parser, so under both servers every request gets the same answer."""
    parsed: list[str] = []
    original = websockets.http11.parse_headers

    def counting_parse_headers(*args: Any) -> Any:  # websockets reaches the headers once it has a request line
        parsed.append(case)
        return original(*args)

    monkeypatch.setattr(websockets.http11, "parse_headers", counting_parse_headers)
    request, expected = HANDSHAKES[case]
    status, head = await status_of(node, request)
    assert status == expected, head
    if case == "plain":  # parsed once, by httptools, under the gateway's protocol; twice under stock uvicorn
        assert parsed == ([] if node.protocol == "helpline" else [case])
    if expected == 101:
        assert b"sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=" in head.lower()  # RFC 6455, section 1.3
