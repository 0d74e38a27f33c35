"""A served process (gateway, status page, `helpline up`) freezes its start-up heap once every server listens, so
that full collections walk only what serving made (issue 18's periodic stalls), and shows each collection's pause."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import uvicorn
from prometheus_client import REGISTRY

from helpline.cli import _serve
from helpline.collector import _PauseClock, measure_pauses
from realtime.drain import CleanExitServer
from tests.services import free_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def test_start_up_objects_are_frozen_once_the_server_listens_and_it_still_answers() -> None:
    port = free_port()
    server = CleanExitServer(uvicorn.Config(hello, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    seen: dict[str, Any] = {}

    def when_up() -> None:
        seen["frozen"] = gc.get_freeze_count()

    async def ask_then_stop() -> None:
        while "frozen" not in seen:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient() as client:
            seen["answer"] = (await client.get(f"http://127.0.0.1:{port}/")).text
        server.should_exit = True

    async def main() -> None:
        await asyncio.gather(_serve([server], when_up=when_up), ask_then_stop())

    gc.unfreeze()
    try:
        asyncio.run(main())
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
    assert seen["frozen"] > 1000  # the interpreter, the modules, the app: all out of every later collection
    assert seen["answer"] == "hello"


def test_every_collection_pause_is_on_the_metrics_by_generation() -> None:
    measure_pauses()
    measure_pauses()  # once per process, however often it is asked

    def full_collections() -> float:
        return REGISTRY.get_sample_value("helpline_gc_pause_seconds_count", {"generation": "2"}) or 0.0

    before = full_collections()
    gc.collect()
    assert full_collections() == before + 1
    assert sum(isinstance(callback, _PauseClock) for callback in gc.callbacks) == 1
