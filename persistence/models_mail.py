"""SQLAlchemy models of the reply e-mails: where a customer can be written to, and what each ticket was mailed.

The schema itself is owned by migration 0007.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models import Base


class Contact(Base):
    """A customer's address and language, from the `email` and `locale` claims of the token they opened a ticket
    with; `unsubscribed_at` is set by the unsubscribe link and keeps every later e-mail away."""

    __tablename__ = "contacts"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(35))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReplyMail(Base):
    """Per ticket, the highest agent reply an e-mail was sent for (or decided against): a later burst of replies
    is mailed once more, an earlier one never again."""

    __tablename__ = "reply_mail"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mailed_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    mailed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
