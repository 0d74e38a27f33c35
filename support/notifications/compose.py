"""The reply e-mail itself: plain text with an HTML alternative, in the customer's language, with the unsubscribe
link in the body and in the List-Unsubscribe headers (RFC 8058 one-click), threaded per ticket in mail clients."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from support.core.model import Message
from support.notifications.ports import QuietReply

# The e-mail's words per language; the language is the token's `locale` claim, English when it names no other.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "New reply to your request: {subject}",
        "greeting": "Hello {name},",
        "intro_one": "{agents} replied to your request \u201c{subject}\u201d:",
        "intro_many": "{agents} sent {count} replies to your request \u201c{subject}\u201d:",
        "read": "Read and answer in your Support tab:",
        "why": "You get this e-mail because a reply is waiting for you and you have not read it yet.",
        "unsubscribe": "No more e-mails about replies:",
    },
    "vi": {
        "subject": "Phản hồi mới cho yêu cầu của bạn: {subject}",
        "greeting": "Xin chào {name},",
        "intro_one": "{agents} đã trả lời yêu cầu \u201c{subject}\u201d của bạn:",
        "intro_many": "{agents} đã gửi {count} phản hồi cho yêu cầu \u201c{subject}\u201d của bạn:",
        "read": "Đọc và trả lời trong mục Hỗ trợ của bạn:",
        "why": "Bạn nhận được email này vì có phản hồi đang chờ mà bạn chưa đọc.",
        "unsubscribe": "Không nhận email về phản hồi nữa:",
    },
}


def language(locale: str | None) -> str:
    code = (locale or "").split("-")[0].split("_")[0].lower()
    return code if code in TEXTS else "en"


@dataclass(frozen=True)
class Links:
    ticket: str  # where the customer reads the thread
    unsubscribe: str


def reply_email(sender: str, reply: QuietReply, messages: list[Message], links: Links) -> EmailMessage:
    t = TEXTS[language(reply.locale)]
    agents = ", ".join(dict.fromkeys(m.author.name for m in messages))
    subject = _one_line(reply.subject)
    intro = (t["intro_one"] if len(messages) == 1 else t["intro_many"]).format(
        agents=agents, count=len(messages), subject=subject
    )
    greeting = t["greeting"].format(name=reply.customer_name)
    quoted = [(m.author.name, m.body) for m in messages]

    text = [greeting, "", intro, ""]
    for author, body in quoted:
        text += [f"{author}:", *("> " + line for line in body.splitlines() or [""]), ""]
    text += [t["read"], links.ticket, "", "-- ", t["why"], f"{t['unsubscribe']} {links.unsubscribe}", ""]

    e = html.escape
    blocks = "".join(
        f'<p><strong>{e(author)}</strong></p><blockquote style="margin:0 0 1em;padding-left:1em;'
        f'border-left:3px solid #ccc;white-space:pre-wrap">{e(body)}</blockquote>'
        for author, body in quoted
    )
    page = (
        f"<p>{e(greeting)}</p><p>{e(intro)}</p>{blocks}"
        f'<p><a href="{e(links.ticket)}">{e(t["read"])}</a></p>'
        f'<hr><p style="color:#666;font-size:90%">{e(t["why"])} '
        f'<a href="{e(links.unsubscribe)}">{e(t["unsubscribe"])}</a></p>'
    )

    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((_one_line(reply.customer_name), reply.email))
    message["Subject"] = t["subject"].format(subject=subject)
    message["Message-ID"] = make_msgid(domain="helpline")
    # One thread per ticket in the customer's mail client, whatever the subject becomes.
    message["References"] = f"<ticket-{reply.ticket_id}@helpline>"
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(text))
    message.add_alternative(f'<!doctype html><html lang="{language(reply.locale)}"><body>{page}</body></html>', "html")
    message["Content-Language"] = language(reply.locale)  # after the content: set_content drops Content-* headers
    return message


def _one_line(value: str) -> str:
    """Header-safe: no line breaks (a subject with a newline must not become a second header)."""
    return " ".join(value.split())[:200]
