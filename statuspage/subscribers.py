"""Subscribers to status updates in the status page's store, and the signed links that confirm and end them.

A link carries `<subscriber id>.<HMAC-SHA256 of purpose and id>`, so it works without a stored token and cannot be
made for another subscriber; webhooks get a secret of their own derived the same way, to check the signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from statuspage.store import StatusStore
from statuspage.tables import SubscriberRow, new_id


@dataclass(frozen=True)
class Subscriber:
    id: str
    kind: str  # "email" | "webhook"
    target: str
    confirmed: bool
    language: str = "en"  # the language of the e-mails they get (`en`, `vi`), chosen when they subscribed


class LinkSigner:
    """Signs and checks the confirm and unsubscribe tokens, and derives each webhook's signing secret."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"helpline status subscriptions", hashlib.sha256).digest()

    def _mac(self, purpose: str, subscriber_id: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{subscriber_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def token(self, purpose: str, subscriber_id: str) -> str:
        return f"{subscriber_id}.{self._mac(purpose, subscriber_id)}"

    def subscriber_of(self, purpose: str, token: str) -> str | None:
        """The subscriber id a genuine token names, or None."""
        subscriber_id, _, mac = token.partition(".")
        if not subscriber_id or len(subscriber_id) > 16 or not mac:
            return None
        return subscriber_id if hmac.compare_digest(mac, self._mac(purpose, subscriber_id)) else None

    def webhook_secret(self, subscriber_id: str) -> str:
        return "whsec_" + self._mac("webhook-secret", subscriber_id)


def subscriber_of_row(row: SubscriberRow) -> Subscriber:
    return Subscriber(row.id, row.kind, row.target, row.confirmed_at is not None, row.language)


class SubscriberStore:
    def __init__(self, store: StatusStore) -> None:
        self._session = store._session

    async def add(self, kind: str, target: str, now: datetime, language: str = "en") -> Subscriber:
        """The subscriber for this address (made unconfirmed when new; an existing one is returned as it is, its
        language too: a stranger who knows the address cannot change what its owner reads)."""
        async with self._session.begin() as s:
            row = await s.scalar(
                select(SubscriberRow).where(SubscriberRow.kind == kind, SubscriberRow.target == target)
            )
            if row is None:
                row = SubscriberRow(
                    id=new_id(), kind=kind, target=target, created_at=now, confirmed_at=None, language=language
                )
                s.add(row)
        return subscriber_of_row(row)

    async def confirm(self, subscriber_id: str, now: datetime) -> Subscriber | None:
        async with self._session.begin() as s:
            row = await s.get(SubscriberRow, subscriber_id)
            if row is None:
                return None
            if row.confirmed_at is None:
                row.confirmed_at = now
        return subscriber_of_row(row)

    async def remove(self, subscriber_id: str) -> bool:
        async with self._session.begin() as s:
            gone = await s.execute(delete(SubscriberRow).where(SubscriberRow.id == subscriber_id))
        return bool(gone.rowcount)  # type: ignore[attr-defined]

    async def get(self, subscriber_id: str) -> Subscriber | None:
        async with self._session() as s:
            row = await s.get(SubscriberRow, subscriber_id)
        return None if row is None else subscriber_of_row(row)

    async def confirmed(self) -> list[Subscriber]:
        async with self._session() as s:
            rows = (
                await s.scalars(
                    select(SubscriberRow).where(SubscriberRow.confirmed_at.is_not(None)).order_by(SubscriberRow.id)
                )
            ).all()
        return [subscriber_of_row(r) for r in rows]
