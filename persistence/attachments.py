"""Attachment rows in SQL: support/help/ports.py `AttachmentRecords` over the `attachments` table.

The unique (ticket_id, uploader_id, client_id) key makes a retried upload find the first one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from persistence.models_help import Attachment
from persistence.store import TicketStore
from support.core.clock import iso
from support.help.ports import AttachmentView


def attachment_view(row: Attachment) -> AttachmentView:
    return AttachmentView(
        row.id,
        row.ticket_id,
        row.filename,
        row.content_type,
        row.size,
        f"/api/attachments/{row.id}",
        iso(row.created_at) or "",
    )


class AttachmentRepository:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    async def by_client_id(self, ticket_id: str, uploader_id: str, client_id: str) -> AttachmentView | None:
        async with self.store.sessions() as session:
            row = await session.scalar(
                select(Attachment).where(
                    Attachment.ticket_id == ticket_id,
                    Attachment.uploader_id == uploader_id,
                    Attachment.client_id == client_id,
                )
            )
            return None if row is None else attachment_view(row)

    async def add(self, attachment: AttachmentView, uploader_id: str, client_id: str | None, now: datetime) -> bool:
        row = Attachment(
            id=attachment.id,
            ticket_id=attachment.ticket,
            uploader_id=uploader_id,
            client_id=client_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            created_at=now,
        )
        try:
            async with self.store.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            # A concurrent upload with this client_id won; anything else is a real error.
            if client_id is None or await self.by_client_id(attachment.ticket, uploader_id, client_id) is None:
                raise
            return False
        return True

    async def of_ticket(self, ticket_id: str) -> list[AttachmentView]:
        async with self.store.sessions() as session:
            rows = await session.scalars(
                select(Attachment)
                .where(Attachment.ticket_id == ticket_id)
                .order_by(Attachment.created_at, Attachment.id)
            )
            return [attachment_view(r) for r in rows]

    async def get(self, attachment_id: str) -> AttachmentView | None:
        async with self.store.sessions() as session:
            row = await session.get(Attachment, attachment_id)
            return None if row is None else attachment_view(row)
