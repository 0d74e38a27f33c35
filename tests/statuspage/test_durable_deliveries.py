"""The status page's delivery queue is in its store (statuspage/outbox.py), on SQLite and PostgreSQL: a confirm
e-mail that could not be sent before the status page stopped is sent after it starts again, once; a claimed
delivery is nobody else's until its lease runs out."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx

from statuspage.app import create_app
from statuspage.outbox import Outbox, Pending
from statuspage.store import StatusStore
from statuspage.tables import utcnow
from tests.statuspage.conftest import free_port, serve
from tests.statuspage.test_http import settings_for
from tests.statuspage.test_subscriptions import Inbox, eventually, links, smtp  # noqa: F401 - the fixture, by name


async def pending_in(url: str, done: bool = False, limit_s: float = 30.0) -> list[Pending]:
    """The store's pending deliveries once one has been tried and failed (or, with `done`, once none is left)."""
    store = StatusStore(url)
    try:
        deadline = time.monotonic() + limit_s  # a hang guard, not a speed check
        while time.monotonic() < deadline:
            found = await Outbox(store).pending()
            if (not found) if done else any(p.attempt >= 2 for p in found):
                return found
            await asyncio.sleep(0.1)
        raise AssertionError("the delivery queue never got there")
    finally:
        await store.close()


async def test_a_confirm_mail_pending_at_stop_is_sent_once_after_start(
    store_url: str,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    down = free_port()  # nothing listens here: the first run's tries fail
    first = create_app(settings_for(store_url, status_smtp_host="127.0.0.1", status_smtp_port=down))
    with serve(first) as base:
        first.state.deliveries.backoff_s = 0.5
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{base}/api/subscriptions", json={"email": "anna@example.com"})
            assert r.status_code == 202, r.text
        [waiting] = await pending_in(store_url)
    assert waiting.event["type"] == "subscription.confirm" and inbox.to("anna@example.com") == []
    [still] = await pending_in(store_url)  # stopped: kept in the store, not lost
    assert still.id == waiting.id

    second = create_app(settings_for(store_url, status_smtp_host="127.0.0.1", status_smtp_port=port))
    with serve(second):
        [mail] = await eventually(lambda: inbox.to("anna@example.com"), "the confirm mail after the restart")
        assert mail["Subject"] == "Confirm your status updates" and len(links(mail)) == 1
        assert await pending_in(store_url, done=True) == []  # sent: deleted, never sent again
    assert len(inbox.to("anna@example.com")) == 1


async def test_a_claimed_delivery_is_nobody_elses_until_its_lease_runs_out(store_url: str) -> None:
    store = StatusStore(store_url)
    try:
        await store.migrate()
        outbox, now = Outbox(store), utcnow()
        await outbox.put("s-gone", {"id": "d1", "type": "subscription.confirm"}, now)
        first = await outbox.claim(now, timedelta(minutes=2))
        assert first is not None and first[0].id == "d1" and first[1] is None  # no such subscriber (any more)
        assert await outbox.claim(now + timedelta(minutes=1), timedelta(minutes=2)) is None
        again = await outbox.claim(now + timedelta(minutes=3), timedelta(minutes=2))  # its node stopped mid-send
        assert again is not None and again[0].id == "d1"
        await outbox.retry("d1", 2, now + timedelta(minutes=10))
        assert await outbox.claim(now + timedelta(minutes=4), timedelta(minutes=2)) is None  # not due yet
        await outbox.done("d1")
        assert await outbox.pending() == [] and await outbox.claim(now + timedelta(hours=1), timedelta(1)) is None
    finally:
        await store.close()
