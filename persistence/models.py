"""SQLAlchemy 2 typed models of the ticket history: tickets, messages, read cursors.

The schema itself is owned by the Alembic migrations in persistence/migrations; keep both in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32), default="question")
    status: Mapped[str] = mapped_column(String(16), default="open")
    plan: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    assignee: Mapped[str | None] = mapped_column(String(128))
    page_url: Mapped[str | None] = mapped_column(String(2000))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    first_response_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # migration 0003: free triage
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    # Migration 0010: a follow-up of a closed ticket names it (a closed ticket takes no new message).
    follow_up_of: Mapped[str | None] = mapped_column(String(64), index=True)
    # Migration 0011: the ticket's tags, sorted, kept with the row so every view carries them without a join; the
    # table ticket_tags (persistence/models_desk.py) holds the same pairs for filtering and counting.
    tags: Mapped[list[str] | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("customer_id", "client_id", name="uq_tickets_customer_client"),
        Index("ix_tickets_queue", "status", "first_response_due", "priority", "created_at"),
        Index("ix_tickets_customer_activity", "customer_id", "updated_at"),
        # Migration 0003: reports and the expected reply time read tickets by creation and by first response.
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_first_response_at", "first_response_at"),
        Index("ix_tickets_updated_at", "updated_at"),  # migration 0007: the reply e-mails read recent activity
    )


class Message(Base):
    __tablename__ = "messages"

    pk: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    client_id: Mapped[str] = mapped_column(String(128))
    author_id: Mapped[str] = mapped_column(String(128))
    author_name: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("ticket_id", "seq", name="uq_messages_ticket_seq"),
        # Idempotency is per author (migration 0006): another author's client_id is another message.
        UniqueConstraint("ticket_id", "author_id", "client_id", name="uq_messages_ticket_author_client"),
    )


class ReadCursor(Base):
    __tablename__ = "read_cursors"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
