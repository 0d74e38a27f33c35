"""The link of a ticket to a status page incident, and whether its customer was told of the resolution.

One incident per ticket; the schema itself is owned by migration 0002.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models import Base


class TicketIncident(Base):
    __tablename__ = "ticket_incidents"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64))
    incident_name: Mapped[str] = mapped_column(String(300))
    linked_by: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set once the resolution notice is committed to the ticket; NULL while the customer still waits.
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A short lease so that of many gateway nodes only one posts the notice at a time; a dead node's lease expires.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_ticket_incidents_incident", "incident_id"),
        Index("ix_ticket_incidents_pending", "notified_at", "incident_id"),
    )
