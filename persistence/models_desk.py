"""SQLAlchemy models of the desk (issue 20): tags on tickets, saved views shared by the team, macros.

The schema is owned by migration 0011, which also adds `tickets.tags` and the full-text indexes over ticket
subjects and message bodies (FTS5 tables on SQLite, GIN expression indexes on PostgreSQL: listed below, no model).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models import Base

MIGRATION_ONLY = frozenset({"tickets_fts*", "messages_fts*", "ix_tickets_subject_search", "ix_messages_body_search"})


class TicketTag(Base):
    """One (ticket, tag) pair: filtering and counting by tag; `tickets.tags` carries the same set for the views."""

    __tablename__ = "ticket_tags"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)


class SavedView(Base):
    """A named filter set shared by the whole team (the desk lists them all)."""

    __tablename__ = "saved_views"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Macro(Base):
    """A canned reply that also sets status, tags and assignee, applied in one call."""

    __tablename__ = "macros"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))
    add_tags: Mapped[list[str]] = mapped_column(JSON)
    remove_tags: Mapped[list[str]] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(128))  # an agent id, "me" (the caller) or None (unchanged)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
