"""The reply notifier: every few seconds, find agents' replies that stayed unread past the quiet delay and e-mail
each customer once per burst of replies; never an internal note, never to somebody who unsubscribed.

"Not read" is the customer's read cursor: a customer who was connected and saw the reply has read it and gets no
e-mail; one who was away gets one. The delay counts from the last reply of a burst, so three quick replies make one
e-mail. A failed send puts the ticket's mark back and is tried again on a later round.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import urlencode

from support.core.clock import utcnow
from support.core.environment import SettingsError
from support.core.settings import Settings
from support.core.tokens import Identity
from support.core.model import TicketView
from support.notifications.compose import Links, reply_email
from support.notifications.links import unsubscribe_url
from support.notifications.ports import MailTransport, QuietReply, ReplyMailStore

log = logging.getLogger("helpline.mail")

LOOKBACK = timedelta(days=2)  # replies older than this past the delay are not mailed any more (after an outage)
BATCH = 100


@dataclass(frozen=True)
class MailSettings:
    sender: str
    delay_s: float
    poll_s: float
    public_url: str
    support_tab_url: str
    key: str


def mail_settings(settings: Settings) -> MailSettings | None:
    """None when reply e-mails are off (no HELPLINE_SMTP_URL); a SettingsError names what is missing when on."""
    if not settings.smtp_url:
        return None
    if not settings.public_url:
        raise SettingsError("HELPLINE_PUBLIC_URL: needed with HELPLINE_SMTP_URL (the links in reply e-mails)")
    key = settings.mail_key or settings.secret
    if not key:
        raise SettingsError("HELPLINE_MAIL_KEY: needed with HELPLINE_SMTP_URL when HELPLINE_SECRET is unset")
    public = settings.public_url.rstrip("/")
    return MailSettings(
        sender=settings.mail_from,
        delay_s=settings.reply_mail_delay_s,
        poll_s=settings.mail_poll_s,
        public_url=public,
        support_tab_url=(settings.support_tab_url or f"{public}/support").rstrip("/"),
        key=key,
    )


class ReplyNotifier:
    def __init__(
        self,
        config: MailSettings,
        store: ReplyMailStore,
        transport: MailTransport,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.store = store
        self.transport = transport
        self.now = now

    async def remember_opener(self, who: Identity, view: TicketView) -> None:
        """A ticket was opened: keep the opener's address and language (from the token) for its reply e-mails."""
        if who.email:
            await self.store.remember_contact(who.id, who.email, who.locale, self.now())

    async def run_once(self) -> int:
        """One round: the e-mails sent."""
        now = self.now()
        quiet_before = now - timedelta(seconds=self.config.delay_s)
        sent = 0
        for reply in await self.store.quiet_replies(quiet_before, quiet_before - LOOKBACK, BATCH):
            if await self._mail(reply, now):
                sent += 1
        return sent

    async def _mail(self, reply: QuietReply, now: datetime) -> bool:
        if not await self.store.claim(reply.ticket_id, reply.mailed_seq, reply.reply_seq, now):
            return False  # another worker has it
        unread_after = max(reply.mailed_seq, reply.read_seq)
        messages = await self.store.replies_after(reply.ticket_id, unread_after, reply.reply_seq)
        if not messages:
            return False
        links = Links(
            ticket=f"{self.config.support_tab_url}?{urlencode({'ticket': reply.ticket_id})}",
            unsubscribe=unsubscribe_url(self.config.public_url, self.config.key, reply.customer_id),
        )
        try:
            await self.transport.send(reply_email(self.config.sender, reply, messages, links))
        except Exception as exc:
            log.warning("reply e-mail for ticket %s not sent (%r); trying again later", reply.ticket_id, exc)
            await self.store.release(reply.ticket_id, reply.reply_seq, reply.mailed_seq)
            return False
        log.info("reply e-mail sent for ticket %s (seq %d)", reply.ticket_id, reply.reply_seq)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop`; a failing round (the database away) is logged and the next one tries again."""
        log.info("reply e-mails on: unread replies are mailed %.0f s after the last of a burst", self.config.delay_s)
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("a round of reply e-mails failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), self.config.poll_s)
            except asyncio.TimeoutError:
                pass
