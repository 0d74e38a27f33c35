"""Mail out over SMTP with aiosmtplib: support/notifications/ports.py `MailTransport` for HELPLINE_SMTP_URL.

smtp://host:port upgrades with STARTTLS when the server offers it; smtps:// speaks TLS from the first byte. A user
and password in the URL log in. One connection per message: reply e-mails are a few a minute, not a stream.
"""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

TIMEOUT_S = 20.0


class SmtpTransport:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            start_tls=None if not self.tls else False,  # None: STARTTLS when the server offers it
            timeout=TIMEOUT_S,
        )
