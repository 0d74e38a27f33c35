"""Where the reply notifier runs: in `helpline worker` beside the webhook dispatcher (Redis deployments), or as a
background task of the one gateway process of the embedded default. Off (nothing runs) without HELPLINE_SMTP_URL."""

from __future__ import annotations

from persistence.background import BackgroundLoop
from persistence.reply_mail import ReplyMailRepository
from persistence.smtp import SmtpTransport
from persistence.store import TicketStore
from support.core.settings import Settings
from support.notifications.service import ReplyNotifier, mail_settings


def reply_notifier(settings: Settings, store: TicketStore) -> ReplyNotifier | None:
    """The notifier for these settings, or None when reply e-mails are off."""
    config = mail_settings(settings)
    if config is None or not settings.smtp_url:
        return None
    return ReplyNotifier(config, ReplyMailRepository(store), SmtpTransport(settings.smtp_url))


class BackgroundNotifier(BackgroundLoop):
    """The notifier's rounds as a task of this process, stopped with it (within a round's send timeout)."""

    def __init__(self, notifier: ReplyNotifier) -> None:
        super().__init__(notifier.run, "reply-mail", 25)
