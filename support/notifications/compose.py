"""The reply e-mail itself: plain text with an HTML alternative, in the customer's language (the catalogue's `email.*` messages), with the unsubscribe
link in the body and in the List-Unsubscribe headers (RFC 8058 one-click), threaded per ticket in mail clients."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from support.core.i18n import DEFAULT_LANGUAGE, message, supported
from support.core.model import Message
from support.notifications.ports import QuietReply


def language(locale: str | None) -> str:
    """The e-mail's language: the token's `locale` claim, English when it names none of ours."""
    return supported(locale) or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Links:
    ticket: str  # where the customer reads the thread
    unsubscribe: str


def reply_email(sender: str, reply: QuietReply, messages: list[Message], links: Links) -> EmailMessage:
    lang = language(reply.locale)

    def t(key: str, **params: object) -> str:
        return message(lang, f"email.{key}", params)

    agents = ", ".join(dict.fromkeys(m.author.name for m in messages))
    subject = _one_line(reply.subject)
    intro = t("replyBody", agents=agents, count=len(messages), subject=subject)
    greeting = t("replyGreeting", name=reply.customer_name)
    quoted = [(m.author.name, m.body) for m in messages]

    text = [greeting, "", intro, ""]
    for author, body in quoted:
        text += [f"{author}:", *("> " + line for line in body.splitlines() or [""]), ""]
    text += [t("replyOpen"), links.ticket, "", "-- ", t("replyWhy"), f"{t('replyUnsubscribe')} {links.unsubscribe}", ""]

    e = html.escape
    blocks = "".join(
        f'<p><strong>{e(author)}</strong></p><blockquote style="margin:0 0 1em;padding-left:1em;'
        f'border-left:3px solid #ccc;white-space:pre-wrap">{e(body)}</blockquote>'
        for author, body in quoted
    )
    page = (
        f"<p>{e(greeting)}</p><p>{e(intro)}</p>{blocks}"
        f'<p><a href="{e(links.ticket)}">{e(t("replyOpen"))}</a></p>'
        f'<hr><p style="color:#666;font-size:90%">{e(t("replyWhy"))} '
        f'<a href="{e(links.unsubscribe)}">{e(t("replyUnsubscribe"))}</a></p>'
    )

    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr((_one_line(reply.customer_name), reply.email))
    mail["Subject"] = t("replySubject", subject=subject)
    mail["Message-ID"] = make_msgid(domain="helpline")
    # One thread per ticket in the customer's mail client, whatever the subject becomes.
    mail["References"] = f"<ticket-{reply.ticket_id}@helpline>"
    mail["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content("\n".join(text))
    mail.add_alternative(f'<!doctype html><html lang="{lang}"><body>{page}</body></html>', "html")
    mail["Content-Language"] = lang  # after the content: set_content drops Content-* headers
    return mail


def _one_line(value: str) -> str:
    """Header-safe: no line breaks (a subject with a newline must not become a second header)."""
    return " ".join(value.split())[:200]
