"""Where the reply notifier runs: in `helpline worker` beside the webhook dispatcher (Redis deployments), or as a
background task of the one gateway process of the embedded default. Off (nothing runs) without HELPLINE_SMTP_URL."""

from __future__ import annotations

import asyncio
import logging

from persistence.reply_mail import ReplyMailRepository
from persistence.smtp import SmtpTransport
from persistence.store import TicketStore
from support.core.settings import Settings
from support.notifications.service import ReplyNotifier, mail_settings

log = logging.getLogger("helpline.mail")


def reply_notifier(settings: Settings, store: TicketStore) -> ReplyNotifier | None:
    """The notifier for these settings, or None when reply e-mails are off."""
    config = mail_settings(settings)
    if config is None or not settings.smtp_url:
        return None
    return ReplyNotifier(config, ReplyMailRepository(store), SmtpTransport(settings.smtp_url))


class BackgroundNotifier:
    """The notifier's rounds as a task of this process, stopped with it (within a round's send timeout)."""

    def __init__(self, notifier: ReplyNotifier) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(notifier.run(self._stop), name="reply-mail")
        self._task.add_done_callback(_report_death)

    async def close(self) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 25)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        except Exception:
            pass  # already logged by _report_death


def _report_death(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the reply notifier died", exc_info=task.exception())
