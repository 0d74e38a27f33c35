"""The dispatcher forgets what nobody needs any more: old outbox events and old delivery log entries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from persistence.migrate import upgrade_async
from persistence.models_integrations import OutboxEvent, WebhookDelivery
from persistence.store import TicketStore
from persistence.webhooks import Dispatcher
from support.core.clock import utcnow
from support.core.settings import Settings
from tests.services import sqlite_url


async def test_prune_keeps_what_a_pending_delivery_needs(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    await upgrade_async(url)
    store = TicketStore(url)
    dispatcher = Dispatcher(Settings(database_url=url), store)
    old, now = utcnow() - timedelta(days=40), utcnow()
    try:
        async with store.sessions.begin() as session:
            for pk, created in ((1, old), (2, old), (3, now)):
                session.add(
                    OutboxEvent(
                        pk=pk,
                        event_id=f"evt_{pk}",
                        type="ticket.created",
                        ticket_id="t",
                        internal=False,
                        payload={},
                        created_at=created,
                        fanned_out=True,
                    )
                )
            for pk, status, created in ((1, "delivered", old), (2, "pending", old), (3, "failed", now)):
                session.add(
                    WebhookDelivery(
                        endpoint_id="whk_1",
                        event_pk=pk,
                        event_id=f"evt_{pk}",
                        event_type="ticket.created",
                        status=status,
                        attempts=1,
                        next_attempt_at=created,
                        expires_at=created,
                        created_at=created,
                    )
                )
        await dispatcher.prune()
        async with store.sessions() as session:
            events = sorted(await session.scalars(select(OutboxEvent.pk)))
            deliveries = sorted(await session.scalars(select(WebhookDelivery.event_pk)))
        assert events == [2, 3]  # 1 is old and done; 2 is old but still pending
        assert deliveries == [2, 3]
    finally:
        await dispatcher.close()
        await store.close()
