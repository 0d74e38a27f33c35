"""Webhook endpoints as admins register them, and each endpoint's delivery log; every change is audited.

Validation of what an admin sends lives in support/integrations/routes.py; this module only stores and reads
(support/integrations/ports.py `WebhookEndpoints`).
"""

from __future__ import annotations

import builtins
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from persistence import audit
from persistence.models_integrations import WebhookDelivery, WebhookEndpoint
from persistence.outbox import Actor
from persistence.store import TicketStore
from support.integrations.ports import DeliveryView, EndpointView
from support.core.clock import iso, utcnow


def endpoint_view(row: WebhookEndpoint, secret: str | None = None) -> EndpointView:
    return EndpointView(
        row.id,
        row.url,
        list(row.events),
        row.include_internal,
        row.description,
        row.active,
        row.failing,
        iso(row.failing_since),
        row.created_by,
        iso(row.created_at) or "",
        iso(row.updated_at) or "",
        secret,
    )


def delivery_view(row: WebhookDelivery) -> DeliveryView:
    return DeliveryView(
        str(row.pk),
        row.event_id,
        row.event_type,
        row.status,
        row.attempts,
        row.last_status_code,
        row.last_latency_ms,
        row.last_error,
        iso(row.created_at) or "",
        iso(row.last_attempt_at),
        iso(row.next_attempt_at) if row.status == "pending" else None,
        iso(row.delivered_at),
    )


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


class WebhookRegistry:
    def __init__(self, store: TicketStore, retry_window_s: float) -> None:
        self.sessions = store.sessions
        self.retry_window_s = retry_window_s

    async def create(
        self, actor: Actor, url: str, events: list[str], include_internal: bool, description: str, secret: str | None
    ) -> EndpointView:
        now = utcnow()
        secret = secret or new_secret()
        row = WebhookEndpoint(
            id="whk_" + secrets.token_hex(8),
            url=url,
            secret=secret,
            events=events,
            include_internal=include_internal,
            description=description,
            active=True,
            failing=False,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        async with self.sessions.begin() as session:
            session.add(row)
            audit.record(
                session,
                actor,
                "webhook.create",
                "webhook",
                row.id,
                {"url": url, "events": events, "include_internal": include_internal},
                now,
            )
        return endpoint_view(row, secret)

    async def list(self) -> builtins.list[EndpointView]:
        async with self.sessions() as session:
            rows = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at))
            return [endpoint_view(r) for r in rows]

    async def get(self, endpoint_id: str) -> EndpointView | None:
        async with self.sessions() as session:
            row = await session.get(WebhookEndpoint, endpoint_id)
            return None if row is None else endpoint_view(row)

    async def update(
        self, actor: Actor, endpoint_id: str, changes: dict[str, Any], rotate_secret: bool
    ) -> EndpointView | None:
        """Apply the given fields; `active: true` also clears `failing` and gives held deliveries a new window."""
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await session.get(WebhookEndpoint, endpoint_id)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            secret = None
            if rotate_secret:
                row.secret = secret = changes.get("secret") or new_secret()
            if changes.get("active") is True and row.failing:
                row.failing, row.failing_since = False, None
                d = WebhookDelivery
                await session.execute(
                    update(d)
                    .where(d.endpoint_id == endpoint_id, d.status == "pending")
                    .values(next_attempt_at=now, expires_at=now + timedelta(seconds=self.retry_window_s))
                )
            row.updated_at = now
            details = {k: v for k, v in changes.items() if k != "secret"}
            if rotate_secret:
                details["secret"] = "rotated"
            audit.record(session, actor, "webhook.update", "webhook", endpoint_id, details, now)
            await session.flush()
            return endpoint_view(row, secret)

    async def delete(self, actor: Actor, endpoint_id: str) -> bool:
        now = utcnow()
        async with self.sessions.begin() as session:
            row = await session.get(WebhookEndpoint, endpoint_id)
            if row is None:
                return False
            await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
            await session.delete(row)
            audit.record(session, actor, "webhook.delete", "webhook", endpoint_id, {"url": row.url}, now)
        return True

    async def deliveries(
        self, endpoint_id: str, before: int | None, limit: int, status: str | None = None
    ) -> builtins.list[DeliveryView]:
        """The endpoint's delivery log, newest first; `before` is the last id of the previous page."""
        d = WebhookDelivery
        query = select(d).where(d.endpoint_id == endpoint_id)
        if before is not None:
            query = query.where(d.pk < before)
        if status:
            query = query.where(d.status == status)
        async with self.sessions() as session:
            return [delivery_view(r) for r in await session.scalars(query.order_by(d.pk.desc()).limit(limit))]


__all__ = ["WebhookRegistry", "EndpointView", "DeliveryView"]
