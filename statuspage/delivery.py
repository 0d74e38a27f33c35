"""Delivers status updates to the confirmed subscribers: e-mail over SMTP (stdlib smtplib, in a worker thread) and
webhooks signed with HMAC-SHA256, each retried with exponential backoff a bounded number of times.

Work waits in one bounded in-process queue: a change that finds it full is dropped for the subscribers it could not
queue (logged), rather than growing without bound while an SMTP server or a receiver is down.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import smtplib
import socket
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from statuspage.settings import StatusSettings
from statuspage.subscribers import LinkSigner, Subscriber, SubscriberStore
from statuspage.store import new_id
from support.core.i18n import catalogue, message

log = logging.getLogger("helpline.statuspage.delivery")

QUEUE_MAX = 10_000  # deliveries waiting at once
WORKERS = 4
ATTEMPTS = 5  # first try and four retries: 1, 2, 4, 8 s apart (times backoff_s), then given up
SMTP_TIMEOUT_S = 10.0
WEBHOOK_TIMEOUT_S = 5.0
SIGNATURE_HEADER = "X-Helpline-Signature"  # "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>"


class PermanentFailure(Exception):
    """Not worth retrying (a refused address, a receiver that answered 4xx)."""


@dataclass(frozen=True)
class Delivery:
    subscriber: Subscriber
    event: dict[str, Any]  # the webhook's body; e-mails are written from it
    attempt: int = 1


def signature(secret: str, body: bytes, at: int) -> str:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def _status_words(language: str, status: str) -> str:
    """An incident's or maintenance's status as the status page names it, in the subscriber's language."""
    key = f"status.update.{status}"
    return message(language, key) if key in catalogue(language) else status.replace("_", " ").capitalize()


def _impact_words(language: str, impact: str) -> str:
    key = f"status.desk.impacts.{impact}"
    return message(language, key) if key in catalogue(language) else impact


def email_for(settings: StatusSettings, subscriber: Subscriber, event: dict[str, Any]) -> EmailMessage:
    """The e-mail for one event, in the language the subscriber chose (`status.mail.*` in locales/).

    The incident's name and update text are the admin's words and go out as written."""
    lang = subscriber.language
    msg = EmailMessage()
    msg["From"], msg["To"] = settings.status_mail_from, subscriber.target
    unsubscribe = event.get("unsubscribe_url")
    if event["type"] == "subscription.confirm":
        msg["Subject"] = message(lang, "status.mail.confirmSubject")
        msg.set_content(
            f"{message(lang, 'status.mail.confirmAsk')}\n\n"
            f"{message(lang, 'status.mail.confirmLink', {'url': event['confirm_url']})}\n\n"
            f"{message(lang, 'status.mail.confirmIgnore')}\n"
        )
        msg["Content-Language"] = lang  # after set_content, which replaces every Content-* header
        return msg
    incident = event["incident"]
    latest = (incident.get("updates") or [{}])[0]
    status = _status_words(lang, incident["status"])
    impact = _impact_words(lang, incident.get("impact", "none"))
    msg["Subject"] = message(lang, "status.mail.subject", {"name": incident["name"], "status": status})
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: mail clients unsubscribe with a POST
    msg.set_content(
        f"{incident['name']}\n{message(lang, 'status.mail.impact', {'status': status, 'impact': impact})}\n\n"
        f"{latest.get('body', '')}\n\n"
        f"{message(lang, 'status.mail.details', {'url': incident.get('shortlink', '')})}\n\n"
        f"{message(lang, 'status.mail.unsubscribe', {'url': unsubscribe})}\n"
    )
    msg["Content-Language"] = lang
    return msg


class Deliveries:
    """The delivery queue and its workers; `incident_changed` is what the admin writes call."""

    def __init__(
        self, settings: StatusSettings, subscribers: SubscriberStore, signer: LinkSigner, backoff_s: float = 1.0
    ) -> None:
        self.settings, self.subscribers, self.signer, self.backoff_s = settings, subscribers, signer, backoff_s
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(QUEUE_MAX)
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False)

    def start(self) -> None:
        for n in range(WORKERS):
            self._spawn(self._work(), f"status-delivery-{n}")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("status delivery task died", exc_info=task.exception())

    # -- what the API calls --------------------------------------------------------------------------------------
    def incident_changed(self, incident: dict[str, Any], base: str) -> None:
        """Queue the change for every confirmed subscriber (read in a task: the admin's answer does not wait)."""
        if not self.settings.subscriptions_on:
            return
        self._spawn(self._fan_out(incident, base), "status-delivery-fan-out")

    def confirm(self, subscriber: Subscriber, base: str) -> None:
        """Send the double opt-in message with its confirm link."""
        event = {
            "id": new_id(),
            "type": "subscription.confirm",
            "confirm_url": f"{base}/subscriptions/confirm?token={self.signer.token('confirm', subscriber.id)}"
            f"&lang={subscriber.language}",
        }
        if subscriber.kind == "webhook":
            event["secret"] = self.signer.webhook_secret(subscriber.id)  # the receiver checks signatures with it
        self._put(Delivery(subscriber, event))

    async def _fan_out(self, incident: dict[str, Any], base: str) -> None:
        kind = "maintenance" if "scheduled_for" in incident else "incident"
        action = "created" if len(incident.get("updates") or []) <= 1 else "updated"
        for subscriber in await self.subscribers.confirmed():
            token = self.signer.token("unsubscribe", subscriber.id)
            # The pages these links open speak the subscriber's language too.
            unsubscribe = f"{base}/subscriptions/unsubscribe?token={token}&lang={subscriber.language}"
            event = {"id": new_id(), "type": f"{kind}.{action}", "incident": incident, "unsubscribe_url": unsubscribe}
            self._put(Delivery(subscriber, event))

    def _put(self, delivery: Delivery) -> None:
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            log.warning("status delivery queue full: %s to %s dropped", delivery.event["type"], delivery.subscriber.id)

    # -- the workers -----------------------------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            try:
                await self.deliver(delivery)
            except asyncio.CancelledError:
                raise
            except PermanentFailure as exc:
                log.warning("status delivery to %s given up: %s", delivery.subscriber.id, exc)
            except Exception as exc:  # a transient failure: later, or never after ATTEMPTS
                self._retry_later(delivery, exc)

    def _retry_later(self, delivery: Delivery, exc: Exception) -> None:
        if delivery.attempt >= ATTEMPTS:
            log.warning("status delivery to %s failed %d times, given up: %s", delivery.subscriber.id, ATTEMPTS, exc)
            return
        delay = self.backoff_s * 2 ** (delivery.attempt - 1) * random.uniform(0.8, 1.2)

        async def later() -> None:
            await asyncio.sleep(delay)
            self._put(Delivery(delivery.subscriber, delivery.event, delivery.attempt + 1))

        self._spawn(later(), "status-delivery-retry")

    async def deliver(self, delivery: Delivery) -> None:
        if delivery.subscriber.kind == "email":
            mail = email_for(self.settings, delivery.subscriber, delivery.event)
            await asyncio.to_thread(self._send_mail, mail)
        else:
            await self._post(delivery)

    def _send_mail(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.status_smtp_host, s.status_smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
                if s.status_smtp_starttls:
                    smtp.starttls()
                if s.status_smtp_user:
                    smtp.login(s.status_smtp_user, s.status_smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from None

    async def _post(self, delivery: Delivery) -> None:
        url = delivery.subscriber.target
        if not self.settings.status_webhook_private_ok:
            await refuse_private(url)
        body = json.dumps(delivery.event, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "Helpline-Status/1",
            "X-Helpline-Event": delivery.event["type"],
            "X-Helpline-Delivery": delivery.event["id"],
            SIGNATURE_HEADER: signature(self.signer.webhook_secret(delivery.subscriber.id), body, int(time.time())),
        }
        response = await self._http.post(url, content=body, headers=headers)
        if response.status_code < 300:
            return
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise PermanentFailure(f"the receiver answered {response.status_code}")
        raise RuntimeError(f"the receiver answered {response.status_code}")


async def refuse_private(url: str) -> None:
    """A webhook may not reach loopback, private or link-local addresses (unless the operator allows it)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RuntimeError(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise PermanentFailure(f"{host} is a private address (HELPLINE_STATUS_WEBHOOK_PRIVATE_OK allows it)")
