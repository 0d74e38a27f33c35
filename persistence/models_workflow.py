"""SQLAlchemy models of the agents' workflow: away flags, the round-robin cursor, canned replies, CSAT ratings.

The schema itself is owned by migration 0003 (which also adds tickets.reviewed_at/reviewed_by); 0009 adds the
agents' capacity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models import Base


class AgentState(Base):
    """What an agent told us about themselves; being online is presence, not a row."""

    __tablename__ = "agent_states"

    agent_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    # The most open (open, pending) tickets auto-assignment gives this agent; None: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentCursor(Base):
    """The last agent auto-assignment picked, so round-robin resumes after a restart and is shared by nodes."""

    __tablename__ = "assignment_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_agent_id: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CsatRating(Base):
    """One rating per ticket: the primary key is what makes "once" hold across nodes."""

    __tablename__ = "csat_ratings"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128))
    plan: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_csat_ratings_created", "created_at"),)
