"""Word of a reply, end to end: a real gateway (SQLite and PostgreSQL) mails a customer who has not read an agent's
reply, through a real SMTP server (aiosmtpd), once per burst, in the customer's language, never an internal note,
and never after the unsubscribe link was followed."""

from __future__ import annotations

import time
import uuid
from email.message import EmailMessage
from typing import Iterator

import httpx
import jwt
import pytest

from tests.notifications.conftest import SmtpServer
from tests.services import SECRET, Gateway, auth, token
from tests.wsclient import Client

DELAY_S = 2.5  # the quiet delay: long enough that a burst posted on a busy machine stays one burst


def customer_token(sub: str, email: str | None, locale: str | None = None) -> str:
    claims = {"sub": sub, "name": sub.title(), "plan": "pro", "role": "customer", "exp": int(time.time()) + 3600}
    if email:
        claims["email"] = email
    if locale:
        claims["locale"] = locale
    return jwt.encode(claims, SECRET, algorithm="HS256")


AGENT = token("agent-anna", role="agent", name="Anna")


@pytest.fixture(scope="module")
def gateway(database_url: str, smtp: SmtpServer) -> Iterator[Gateway]:
    node = Gateway(
        database_url,
        HELPLINE_SMTP_URL=smtp.url,
        HELPLINE_PUBLIC_URL="https://support.example.test",
        HELPLINE_REPLY_MAIL_DELAY_S=str(DELAY_S),
        HELPLINE_MAIL_POLL_S="0.2",
        HELPLINE_MAIL_FROM="Example Support <support@example.test>",
    ).start()
    yield node
    node.stop()


def open_ticket(gateway: Gateway, customer: str, subject: str = "Alerts are late") -> str:
    r = httpx.post(
        f"{gateway.url}/api/tickets",
        json={"subject": subject, "body": "My price alert fired ten minutes late."},
        headers=auth(customer),
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def reply(gateway: Gateway, ticket: str, body: str, internal: bool = False) -> int:
    r = httpx.post(
        f"{gateway.url}/api/tickets/{ticket}/messages",
        json={"body": body, "client_id": uuid.uuid4().hex, "internal": internal},
        headers=auth(AGENT),
        timeout=10,
    )
    assert r.status_code in (200, 201), r.text
    return int(r.json()["seq"])


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_an_unread_burst_of_replies_is_one_email_without_the_internal_note(gateway: Gateway, smtp: SmtpServer) -> None:
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    ticket = open_ticket(gateway, customer_token("cust-" + uuid.uuid4().hex[:6], address))
    reply(gateway, ticket, "Thanks! Which symbol was it?")
    reply(gateway, ticket, "Secret: check the push logs", internal=True)
    reply(gateway, ticket, "And which device do you use?")

    [mail] = smtp.mailbox.wait(address)
    body = text_of(mail)
    assert mail["Subject"] == "New reply to your request: Alerts are late"
    assert mail["From"] == "Example Support <support@example.test>"
    assert "Which symbol was it?" in body and "which device do you use?" in body
    assert "push logs" not in body and "push logs" not in str(mail)
    assert f"https://support.example.test/support?ticket={ticket}" in body
    assert mail["List-Unsubscribe"].startswith("<https://support.example.test/api/email/unsubscribe?token=")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Content-Language"] == "en"

    time.sleep(DELAY_S + 1.0)  # more rounds pass: the burst was mailed once
    assert len(smtp.mailbox.to(address)) == 1
    reply(gateway, ticket, "We found it: a delay in the push provider.")  # a new burst, still unread
    second = smtp.mailbox.wait(address, count=2)[1]
    assert "push provider" in text_of(second) and "Which symbol" not in text_of(second)
    assert second["References"] == mail["References"]  # one thread per ticket in the mail client


def test_vietnamese_customer_gets_vietnamese_email(gateway: Gateway, smtp: SmtpServer) -> None:
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    ticket = open_ticket(gateway, customer_token("cust-" + uuid.uuid4().hex[:6], address, "vi-VN"), "Quên mật khẩu")
    reply(gateway, ticket, "Chúng tôi đã gửi liên kết đặt lại mật khẩu.")
    [mail] = smtp.mailbox.wait(address)
    assert mail["Subject"] == "Phản hồi mới cho yêu cầu của bạn: Quên mật khẩu"
    assert mail["Content-Language"] == "vi"
    body = text_of(mail)
    assert "Xin chào" in body and "liên kết đặt lại mật khẩu" in body
    assert "Không nhận email về phản hồi nữa" in body


async def test_a_reply_read_in_time_sends_nothing(gateway: Gateway, smtp: SmtpServer) -> None:
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    customer = customer_token("cust-" + uuid.uuid4().hex[:6], address)
    ticket = open_ticket(gateway, customer)
    client = await Client.connect(gateway.ws_url, customer)
    try:
        await client.join(ticket)
        seq = reply(gateway, ticket, "Fixed on our side, can you check?")
        await client.expect("message", seq=seq)
        await client.send({"type": "read", "ticket": ticket, "seq": seq})  # the widget marks what it showed
        time.sleep(DELAY_S + 1.5)
        assert smtp.mailbox.to(address) == []
        # The control: the next reply, not read, is mailed, so the notifier was running all along.
        await client.ws.close()
        reply(gateway, ticket, "Any news?")
        [mail] = smtp.mailbox.wait(address)
        assert "Any news?" in text_of(mail) and "Fixed on our side" not in text_of(mail)
    finally:
        await client.ws.close()


def test_unsubscribe_link_stops_every_later_email(gateway: Gateway, smtp: SmtpServer) -> None:
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    customer = customer_token("cust-" + uuid.uuid4().hex[:6], address)
    ticket = open_ticket(gateway, customer)
    reply(gateway, ticket, "First answer")
    [mail] = smtp.mailbox.wait(address)
    link = mail["List-Unsubscribe"].strip("<>").replace("https://support.example.test", gateway.url)

    forged = httpx.get(link[:-4] + "AAAA", timeout=10)
    assert forged.status_code == 404 and "not valid" in forged.text
    assert httpx.post(link[:-4] + "AAAA", timeout=10).json()["error"]["code"] == "not_found"
    page = httpx.get(link, headers={"Accept-Language": "vi"}, timeout=10)
    assert page.status_code == 200 and "Đã hủy đăng ký" in page.text
    assert httpx.post(link, timeout=10).status_code == 204  # the one-click form is idempotent

    open_ticket(gateway, customer)  # a new ticket with the same token does not opt the customer back in
    reply(gateway, ticket, "Second answer, after the unsubscribe")
    time.sleep(DELAY_S + 1.5)
    assert len(smtp.mailbox.to(address)) == 1


def test_a_customer_without_an_email_claim_is_never_mailed(gateway: Gateway, smtp: SmtpServer) -> None:
    before = len(smtp.mailbox.messages)
    sub = "cust-" + uuid.uuid4().hex[:6]
    ticket = open_ticket(gateway, customer_token(sub, None))
    reply(gateway, ticket, "Hello there")
    # Mailed alongside: a customer with an address, replied to after, proves a round ran past the first one.
    address = f"{uuid.uuid4().hex[:8]}@example.test"
    other = open_ticket(gateway, customer_token("cust-" + uuid.uuid4().hex[:6], address))
    reply(gateway, other, "Hello too")
    smtp.mailbox.wait(address)
    assert [m for m in smtp.mailbox.messages[before:] if sub in str(m)] == []
    assert len(smtp.mailbox.messages) == before + 1
