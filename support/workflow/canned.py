"""Canned replies rendered for one ticket: {{customer.name}}-style placeholders and an optional article link.

Pure: values in, text out. Unknown placeholders stay as written, so an agent sees what was not filled in.
"""

from __future__ import annotations

import re
from typing import Mapping

import msgspec

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
PLACEHOLDERS = ("customer.name", "customer.id", "ticket.id", "ticket.subject", "ticket.plan", "agent.name")


class RenderContext(msgspec.Struct, frozen=True):
    customer_name: str
    customer_id: str
    ticket_id: str
    ticket_subject: str
    ticket_plan: str
    agent_name: str

    def values(self) -> dict[str, str]:
        return {
            "customer.name": self.customer_name,
            "customer.id": self.customer_id,
            "ticket.id": self.ticket_id,
            "ticket.subject": self.ticket_subject,
            "ticket.plan": self.ticket_plan,
            "agent.name": self.agent_name,
        }


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace every known {{placeholder}} once; the substituted text is never scanned again, so a customer
    named "{{agent.name}}" stays just that."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def article_link(slug: str) -> str:
    if not SLUG.match(slug):
        raise ValueError("an article slug is lowercase letters, digits and dashes")
    return f"/help/{slug}"


def render_reply(template: str, context: RenderContext, article: str | None = None) -> str:
    body = render(template, context.values())
    if article:
        body = f"{body.rstrip()}\n\n{article_link(article)}"
    return body
