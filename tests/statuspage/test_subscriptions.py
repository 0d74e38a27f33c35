"""Status-update subscriptions end to end, on SQLite and PostgreSQL: a real SMTP server (aiosmtpd) and a real
webhook receiver, started by the test. Double opt-in, delivery on each incident change, signed webhooks retried
until the receiver takes them, unsubscribe links, and the feature off when no SMTP server is configured."""

from __future__ import annotations

import asyncio
import email
import hashlib
import hmac
import re
import threading
import time
from email.message import EmailMessage
from email.policy import default
from typing import Any, Callable, Iterator, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller

from statuspage.app import create_app
from statuspage.settings import StatusSettings
from support.core.environment import SettingsError
from tests.integrations.receiver import Received, Receiver
from tests.statuspage.conftest import free_port, serve, token
from tests.statuspage.test_http import settings_for

T = TypeVar("T")
LINK = re.compile(r"http://\S+/subscriptions/(?:confirm|unsubscribe)\?token=\S+")


class Inbox:
    """aiosmtpd's handler: every message the server accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


async def eventually(probe: Callable[[], T | None], what: str, limit_s: float = 20.0) -> T:
    """Wait for `probe` to return something (a hang guard, not a speed check)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def links(message: EmailMessage) -> list[str]:
    body = message.get_body(("plain",))
    assert body is not None
    return LINK.findall(body.get_content())


def signed_by(secret: str, r: Received) -> bool:
    parts = dict(p.split("=", 1) for p in r.headers["X-Helpline-Signature"].split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + r.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


async def test_subscribers_confirm_get_each_change_and_unsubscribe(
    store_url: str, smtp: tuple[Inbox, int], receiver: Receiver
) -> None:
    inbox, port = smtp
    settings = settings_for(
        store_url, status_smtp_host="127.0.0.1", status_smtp_port=port, status_webhook_private_ok=True
    )
    app = create_app(settings)
    with serve(app) as base:
        app.state.deliveries.backoff_s = 0.05  # retries in milliseconds here; the count and order are what matter
        async with httpx.AsyncClient() as client:
            for address in ("anna@example.com", "binh@example.com"):
                r = await client.post(f"{base}/api/subscriptions", json={"email": address})
                assert r.status_code == 202, r.text
                confirm_mail = await eventually(lambda a=address: inbox.to(a), f"confirm mail to {address}")
                assert confirm_mail[0]["Subject"] == "Confirm your status updates"
                (confirm,) = links(confirm_mail[0])
                page = await client.get(confirm)
                assert page.status_code == 200 and "You are subscribed" in page.text
            r = await client.post(f"{base}/api/subscriptions", json={"webhook": receiver.url})
            assert r.status_code == 202
            hello = (await eventually(receiver.received, "the webhook's confirm event"))[0]
            assert hello.event["type"] == "subscription.confirm" and signed_by(hello.event["secret"], hello)
            secret = hello.event["secret"]
            assert (await client.get(hello.event["confirm_url"])).status_code == 200

            # The receiver is down at first: the event is retried, the same delivery, until it is taken.
            receiver.status = 503
            made = await client.post(
                f"{base}/api/incidents",
                json={"name": "Charts slow", "status": "investigating", "body": "Looking.", "impact": "major"},
                headers=token(),
            )
            assert made.status_code == 201
            iid = made.json()["id"]
            news = (await eventually(lambda: inbox.to("anna@example.com")[1:], "Anna's incident mail"))[0]
            assert news["Subject"] == "[Status] Charts slow: Investigating"
            assert "Looking." in news.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            (unsubscribe,) = links(news)
            assert news["List-Unsubscribe"] == f"<{unsubscribe}>"

            def created() -> list[Received]:
                return receiver.received(lambda r: r.event["type"] == "incident.created")

            await eventually(lambda: len(created()) >= 2, "a retry after the 503")
            receiver.status = 200
            await eventually(lambda: len(created()) >= 3, "the retried event taken")
            tries = created()
            assert len({r.headers["X-Helpline-Delivery"] for r in tries}) == 1
            assert all(signed_by(secret, r) for r in tries)
            assert tries[0].event["incident"]["id"] == iid and tries[0].event["unsubscribe_url"].startswith(base)

            # Anna unsubscribes (the link asks first; the POST unsubscribes); Binh stays.
            asked = await client.get(unsubscribe)
            assert asked.status_code == 200 and "Stop receiving status updates?" in asked.text
            done = await client.post(unsubscribe)
            assert "You will receive no more status updates." in done.text
            signed, sep, lang = unsubscribe.partition("&")  # `?token=…&lang=en`: the token's MAC altered
            tampered = signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB") + sep + lang
            assert (await client.post(tampered)).status_code == 404

            r = await client.post(
                f"{base}/api/incidents/{iid}/updates", json={"status": "resolved", "body": "Fixed."}, headers=token()
            )
            assert r.status_code == 201
            resolved = await eventually(lambda: inbox.to("binh@example.com")[2:], "Binh's resolution mail")
            assert resolved[0]["Subject"] == "[Status] Charts slow: Resolved"
            await eventually(
                lambda: receiver.received(lambda r: r.event["type"] == "incident.updated"), "the resolution webhook"
            )
            assert len(inbox.to("anna@example.com")) == 2  # the confirm mail and the first change, nothing after


async def test_subscriptions_are_off_without_an_smtp_server(sqlite_url: str) -> None:
    with serve(create_app(settings_for(sqlite_url))) as base:
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{base}/api/subscriptions", json={"email": "anna@example.com"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


async def test_bad_subscriptions_are_refused(sqlite_url: str, smtp: tuple[Inbox, int]) -> None:
    settings = settings_for(sqlite_url, status_smtp_host="127.0.0.1", status_smtp_port=smtp[1])
    with serve(create_app(settings)) as base:
        async with httpx.AsyncClient() as client:
            for body in (
                {},
                {"email": "not-an-address"},
                {"webhook": "ftp://x"},
                {"email": "a@b.co", "webhook": "https://x.example"},
            ):
                r = await client.post(f"{base}/api/subscriptions", json=body)
                assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", body
            assert (await client.get(f"{base}/subscriptions/confirm?token=abc.def")).status_code == 404


async def test_each_subscriber_gets_mail_in_the_language_they_subscribed_in(
    store_url: str, smtp: tuple[Inbox, int]
) -> None:
    """The language comes from the body's `lang`, then `?lang=`, then Accept-Language, and is kept: the confirm mail,
    the page its link opens and every later change are in it; the others stay English."""
    inbox, port = smtp
    settings = settings_for(store_url, status_smtp_host="127.0.0.1", status_smtp_port=port)
    app = create_app(settings)
    with serve(app) as base:
        async with httpx.AsyncClient() as client:
            ways: list[tuple[str, str, dict[str, str]]] = [
                ("lan@example.com", "", {"lang": "vi"}),
                ("minh@example.com", "?lang=vi", {}),
                ("thu@example.com", "", {"accept-language": "vi-VN,vi;q=0.9,en;q=0.5"}),
                ("anna@example.com", "", {"accept-language": "en-GB,en;q=0.9"}),
            ]
            for address, query, extra in ways:
                headers = {k: v for k, v in extra.items() if k != "lang"}
                body = {"email": address, **({"lang": extra["lang"]} if "lang" in extra else {})}
                r = await client.post(f"{base}/api/subscriptions{query}", json=body, headers=headers)
                assert r.status_code == 202, r.text
                mail = (await eventually(lambda a=address: inbox.to(a), f"confirm mail to {address}"))[0]
                (confirm,) = links(mail)
                page = await client.get(confirm)  # no Accept-Language: the link carries the language
                if address == "anna@example.com":
                    assert mail["Subject"] == "Confirm your status updates"
                    assert "You are subscribed" in page.text
                else:
                    assert mail["Subject"] == "Xác nhận nhận cập nhật trạng thái", address
                    assert mail["Content-Language"] == "vi"
                    assert "Có người (hy vọng là bạn)" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
                    assert page.status_code == 200 and "Bạn đã đăng ký nhận cập nhật trạng thái." in page.text
                    assert '<html lang="vi">' in page.text

            made = await client.post(
                f"{base}/api/incidents",
                json={"name": "Charts slow", "status": "investigating", "body": "Looking.", "impact": "major"},
                headers=token(),
            )
            assert made.status_code == 201
            lan = (await eventually(lambda: inbox.to("lan@example.com")[1:], "Lan's incident mail"))[0]
            assert lan["Subject"] == "[Trạng thái] Charts slow: Đang điều tra"
            text = lan.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert "Đang điều tra (mức ảnh hưởng: Nặng)" in text and "Looking." in text
            (unsubscribe,) = links(lan)
            asked = await client.get(unsubscribe)
            assert "Ngừng nhận cập nhật trạng thái?" in asked.text
            anna = (await eventually(lambda: inbox.to("anna@example.com")[1:], "Anna's incident mail"))[0]
            assert anna["Subject"] == "[Status] Charts slow: Investigating"
            assert "Investigating (impact: Major)" in anna.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_subscribing_too_often_from_one_address_or_for_one_target_is_refused_with_retry_after(
    sqlite_url: str, smtp: tuple[Inbox, int]
) -> None:
    """Each request mails whatever target it names: past its budget per target, then per client address, a 429
    `rate_limited` in the subscriber's language with Retry-After, and no mail goes out for it."""
    inbox, port = smtp
    settings = settings_for(
        sqlite_url,
        status_smtp_host="127.0.0.1",
        status_smtp_port=port,
        status_subscribe_ip_per_hour=4,
        status_subscribe_target_per_hour=2,
    )
    with serve(create_app(settings)) as base:
        async with httpx.AsyncClient() as client:
            for _ in range(2):
                r = await client.post(f"{base}/api/subscriptions", json={"email": "anna@example.com"})
                assert r.status_code == 202, r.text
            # The same target in other letters is the same target.
            refused = await client.post(f"{base}/api/subscriptions", json={"email": "Anna@Example.com", "lang": "vi"})
            assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited", refused.text
            assert "Vui lòng thử lại sau" in refused.json()["error"]["message"]
            assert 1 <= int(refused.headers["retry-after"]) <= 3600  # one of 2 per hour comes back within 30 min
            r = await client.post(f"{base}/api/subscriptions", json={"email": "binh@example.com"})
            assert r.status_code == 202, r.text  # another target from the same address: its 4th request
            await eventually(lambda: inbox.to("binh@example.com"), "the confirm mail to binh")
            await eventually(lambda: len(inbox.to("anna@example.com")) == 2 or None, "Anna's two confirm mails")
            assert len(inbox.to("anna@example.com")) == 2  # none for the refused request
            over = await client.post(f"{base}/api/subscriptions", json={"email": "chi@example.com"})
            assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
            assert "Too many subscription requests" in over.json()["error"]["message"]
            assert inbox.to("chi@example.com") == []


def test_the_subscription_budgets_are_settings_and_a_wrong_value_names_its_variable() -> None:
    s = StatusSettings.from_env(
        {"HELPLINE_STATUS_SUBSCRIBE_IP_PER_HOUR": "50", "HELPLINE_STATUS_SUBSCRIBE_TARGET_PER_HOUR": "5"}
    )
    assert (s.status_subscribe_ip_per_hour, s.status_subscribe_target_per_hour) == (50, 5)
    with pytest.raises(SettingsError, match="^HELPLINE_STATUS_SUBSCRIBE_TARGET_PER_HOUR: expected an integer"):
        StatusSettings.from_env({"HELPLINE_STATUS_SUBSCRIBE_TARGET_PER_HOUR": "0"})
