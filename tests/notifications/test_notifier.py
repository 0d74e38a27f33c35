"""The reply notifier against a real database and a real SMTP server, driven a round at a time with a controlled
clock: a send that fails (nothing listens) is tried again on a later round and then sent once; reply e-mails that
are switched on without their links' settings stop the process with one line naming the variable."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest

from persistence.reply_mail import ReplyMailRepository
from persistence.smtp import SmtpTransport
from persistence.store import TicketStore
from support.core.bus import Draft
from support.core.clock import iso
from support.core.model import Customer, User
from support.core.settings import Settings
from support.core.stores import NewTicket
from support.core.tokens import Identity
from support.notifications.service import ReplyNotifier, mail_settings
from tests.notifications.conftest import SmtpServer
from tests.operations.processes import helpline
from tests.services import SECRET, free_port

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SETTINGS = Settings(
    secret=SECRET, smtp_url="smtp://127.0.0.1:1", public_url="https://support.example.test", reply_mail_delay_s=600
)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[TicketStore]:
    store = TicketStore(database_url)
    yield store
    await store.close()


async def ticket_with_reply(store: TicketStore, ticket_id: str, at: datetime) -> None:
    customer = Customer(f"cust-{ticket_id}", "Binh")
    new = NewTicket(
        ticket_id, customer, None, "Refund", "I want my money back", "billing", "pro", 3, None, None, at, None
    )
    first = Draft(ticket_id, "c1", User(customer.id, customer.name, "customer"), new.body, False, iso(at) or "")
    await store.create_ticket(new, first.committed(1))
    answer = Draft(ticket_id, "a1", User("agent-anna", "Anna", "agent"), "Refunded today.", False, iso(at) or "")
    await store.write_messages([answer.committed(2)])


async def test_a_failed_send_is_retried_on_a_later_round_and_sent_once(store: TicketStore, smtp: SmtpServer) -> None:
    now = [START]
    repository = ReplyMailRepository(store)
    config = mail_settings(SETTINGS)
    assert config is not None
    dead = SmtpTransport(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    notifier = ReplyNotifier(config, repository, dead, now=lambda: now[0])
    ticket_id = "mail" + START.strftime("%H%M%S") + str(free_port())
    address = f"{ticket_id}@example.test"
    who = Identity(id=f"cust-{ticket_id}", name="Binh", role="customer", plan="pro", email=address, locale="vi")
    await notifier.remember_opener(who, None)  # type: ignore[arg-type]  # the view is not read
    await ticket_with_reply(store, ticket_id, START)

    now[0] = START + timedelta(seconds=599)
    assert await notifier.run_once() == 0  # not quiet long enough yet
    now[0] = START + timedelta(seconds=601)
    assert await notifier.run_once() == 0  # due, but the server is down: the mark goes back
    notifier.transport = SmtpTransport(smtp.url)
    assert await notifier.run_once() == 1
    assert await notifier.run_once() == 0  # mailed: not again
    [mail] = smtp.mailbox.to(address)
    assert "Refunded today." in str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change, line",
    [
        ({"public_url": None}, "HELPLINE_PUBLIC_URL: needed with HELPLINE_SMTP_URL (the links in reply e-mails)"),
        ({"secret": ""}, "HELPLINE_MAIL_KEY: needed with HELPLINE_SMTP_URL when HELPLINE_SECRET is unset"),
    ],
)
def test_reply_mail_settings_name_what_is_missing(change: dict[str, object], line: str) -> None:
    from support.core.environment import SettingsError

    with pytest.raises(SettingsError) as refused:
        mail_settings(dataclasses.replace(SETTINGS, **change))  # type: ignore[arg-type]
    assert str(refused.value) == line
    assert mail_settings(dataclasses.replace(SETTINGS, smtp_url=None)) is None  # off: nothing is needed


def test_the_gateway_with_smtp_but_no_public_url_does_not_start(tmp_path: Path) -> None:
    done = helpline(tmp_path, "gateway", HELPLINE_SECRET=SECRET, HELPLINE_SMTP_URL="smtp://127.0.0.1:25")
    assert done.returncode == 2, done.stderr
    lines = [x for x in done.stderr.splitlines() if x.strip() and "in-memory bus" not in x]
    assert lines == ["HELPLINE_PUBLIC_URL: needed with HELPLINE_SMTP_URL (the links in reply e-mails)"]
