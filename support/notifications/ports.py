"""What the reply e-mails ask of the database and of a mail server, as Protocols (persistence/ implements them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from support.core.model import Message


@dataclass(frozen=True)
class QuietReply:
    """A ticket whose newest public agent reply is past the quiet delay, unread by its customer and not mailed."""

    ticket_id: str
    subject: str
    customer_id: str
    customer_name: str
    email: str
    locale: str | None
    mailed_seq: int  # replies up to here were mailed already (0: none)
    read_seq: int  # the customer has read up to here
    reply_seq: int  # the newest public agent reply


class ReplyMailStore(Protocol):
    """Contacts and each ticket's mailed mark. Guarantees:
    - `quiet_replies` returns only tickets whose customer has an address and did not unsubscribe, whose newest
      public (never internal) agent reply is older than `quiet_before` and newer than both marks;
    - `claim` moves a ticket's mark from `mailed_seq` to `reply_seq` only if nobody moved it meanwhile (True: this
      caller sends the e-mail; two workers never send the same one); `release` puts it back after a failed send."""

    async def remember_contact(self, user_id: str, email: str, locale: str | None, now: datetime) -> None: ...

    async def unsubscribe(self, user_id: str, now: datetime) -> bool:
        """True when the user had an address on file (now unsubscribed)."""

    async def quiet_replies(self, quiet_before: datetime, active_since: datetime, limit: int) -> list[QuietReply]: ...

    async def claim(self, ticket_id: str, mailed_seq: int, reply_seq: int, now: datetime) -> bool: ...

    async def release(self, ticket_id: str, reply_seq: int, mailed_seq: int) -> None: ...

    async def replies_after(self, ticket_id: str, after_seq: int, up_to_seq: int) -> list[Message]:
        """The public agent replies with after_seq < seq <= up_to_seq, in seq order."""


class MailTransport(Protocol):
    """A mail server: `send` returns once the server accepted the message, raises when it did not."""

    async def send(self, message: EmailMessage) -> None: ...
