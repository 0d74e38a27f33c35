"""SQLAlchemy models of the help content: indexed articles, article events, attachments, callback requests.

The full-text parts (the SQLite FTS5 table, the PostgreSQL tsvector column) live only in migration 0004.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models import Base

# Full-text search is engine-specific and has no model: the SQLite FTS5 table (and the shadow tables FTS5 makes
# after its name), the PostgreSQL tsvector column and its GIN index. persistence/metadata.py keeps them out of
# `alembic check`.
MIGRATION_ONLY = frozenset({"help_articles_fts*", "help_articles.search", "ix_help_articles_search"})


class HelpArticle(Base):
    """One article as indexed; the Markdown files stay the source of truth (rows follow the folder)."""

    __tablename__ = "help_articles"

    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(64))
    tags: Mapped[str] = mapped_column(String(1000), default="")
    body: Mapped[str] = mapped_column(Text)  # plain text, for search and snippets
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ArticleEvent(Base):
    """A suggestion shown, an article opened, a ticket not sent after reading (a deflection)."""

    __tablename__ = "article_events"

    pk: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(128))
    client_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("slug", "kind", "client_id", name="uq_article_events_client"),
        Index("ix_article_events_slug_kind", "slug", "kind"),
    )


class Attachment(Base):
    """A file attached to a ticket; its bytes are in attachment storage under the id, never under its name."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), index=True)
    uploader_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str | None] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # Per uploader (migration 0006), like messages: another uploader's client_id is another upload.
    __table_args__ = (
        UniqueConstraint("ticket_id", "uploader_id", "client_id", name="uq_attachments_ticket_uploader_client"),
    )


class Callback(Base):
    """A premium customer's request to be phoned back; its ticket carries it through the agents' queue."""

    __tablename__ = "callbacks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(40))
    preferred_time: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        UniqueConstraint("customer_id", "client_id", name="uq_callbacks_customer_client"),
        Index("ix_callbacks_status_created", "status", "created_at"),
    )
