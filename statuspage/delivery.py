"""Delivers status updates to the confirmed subscribers: e-mail over SMTP (stdlib smtplib, in a worker thread) and
webhooks signed with HMAC-SHA256, each retried with exponential backoff a bounded number of times.

Work waits in the store (statuspage/outbox.py, table `status_deliveries`): a delivery pending when the status page
stops (waiting, or between retries) is sent after it starts again, and one that was sent is deleted, never sent again.
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
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from statuspage.outbox import Outbox
from statuspage.settings import StatusSettings
from statuspage.subscribers import LinkSigner, Subscriber, SubscriberStore
from statuspage.store import StatusStore
from statuspage.tables import new_id, utcnow
from support.core.i18n import catalogue, message

log = logging.getLogger("helpline.statuspage.delivery")

WORKERS = 4
POLL_S = 1.0  # an idle worker looks for due deliveries this often (a new one wakes them at once)
LEASE = timedelta(minutes=2)  # a claimed delivery is another worker's again after this (its node stopped mid-send)
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
    """The delivery workers over the store's queue; `incident_changed` is what the admin writes call."""

    def __init__(
        self,
        settings: StatusSettings,
        subscribers: SubscriberStore,
        signer: LinkSigner,
        store: StatusStore,
        backoff_s: float = 1.0,
    ) -> None:
        self.settings, self.subscribers, self.signer, self.backoff_s = settings, subscribers, signer, backoff_s
        self.outbox = Outbox(store)
        self.poll_s = POLL_S
        self._wake = asyncio.Event()
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

    async def confirm(self, subscriber: Subscriber, base: str) -> None:
        """Queue the double opt-in message with its confirm link (stored before the subscriber is answered)."""
        event = {
            "id": new_id(),
            "type": "subscription.confirm",
            "confirm_url": f"{base}/subscriptions/confirm?token={self.signer.token('confirm', subscriber.id)}"
            f"&lang={subscriber.language}",
        }
        if subscriber.kind == "webhook":
            event["secret"] = self.signer.webhook_secret(subscriber.id)  # the receiver checks signatures with it
        await self.outbox.put(subscriber.id, event, utcnow())
        self._wake.set()

    async def _fan_out(self, incident: dict[str, Any], base: str) -> None:
        kind = "maintenance" if "scheduled_for" in incident else "incident"
        action = "created" if len(incident.get("updates") or []) <= 1 else "updated"
        items = []
        for subscriber in await self.subscribers.confirmed():
            token = self.signer.token("unsubscribe", subscriber.id)
            # The pages these links open speak the subscriber's language too.
            unsubscribe = f"{base}/subscriptions/unsubscribe?token={token}&lang={subscriber.language}"
            event = {"id": new_id(), "type": f"{kind}.{action}", "incident": incident, "unsubscribe_url": unsubscribe}
            items.append((subscriber.id, event))
        if items:
            await self.outbox.put_many(items, utcnow())
            self._wake.set()

    # -- the workers -----------------------------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            try:
                claimed = await self.outbox.claim(utcnow(), LEASE)
            except asyncio.CancelledError:
                raise
            except Exception:  # the store is down for a moment: the deliveries wait in it
                log.warning("status delivery queue unreadable", exc_info=True)
                claimed = None
            if claimed is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)
                except TimeoutError:
                    pass
                continue
            pending, subscriber = claimed
            if subscriber is None:  # unsubscribed since it was queued
                await self.outbox.done(pending.id)
                continue
            delivery = Delivery(subscriber, pending.event, pending.attempt)
            try:
                await self.deliver(delivery)
                await self.outbox.done(pending.id)
            except asyncio.CancelledError:
                await asyncio.shield(self.outbox.release(pending.id))  # stopping: due again at the next start
                raise
            except PermanentFailure as exc:
                log.warning("status delivery to %s given up: %s", subscriber.id, exc)
                await self.outbox.done(pending.id)
            except Exception as exc:  # a transient failure: later, or never after ATTEMPTS
                await self._retry_later(delivery, pending.id, exc)

    async def _retry_later(self, delivery: Delivery, delivery_id: str, exc: Exception) -> None:
        if delivery.attempt >= ATTEMPTS:
            log.warning("status delivery to %s failed %d times, given up: %s", delivery.subscriber.id, ATTEMPTS, exc)
            await self.outbox.done(delivery_id)
            return
        delay = self.backoff_s * 2 ** (delivery.attempt - 1) * random.uniform(0.8, 1.2)
        await self.outbox.retry(delivery_id, delivery.attempt + 1, utcnow() + timedelta(seconds=delay))

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
