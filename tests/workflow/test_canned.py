"""Canned replies render placeholders on the server, once, and link articles."""

from __future__ import annotations

import pytest

from support.workflow.canned import RenderContext, render, render_reply

CONTEXT = RenderContext(
    customer_name="Carol",
    customer_id="u-42",
    ticket_id="t-7",
    ticket_subject="Alert fired",
    ticket_plan="pro",
    agent_name="Alice",
)


def test_placeholders_are_filled_from_the_ticket_and_the_agent() -> None:
    body = render_reply("Hi {{customer.name}}, about #{{ ticket.id }} ({{ticket.plan}}): ... {{agent.name}}", CONTEXT)
    assert body == "Hi Carol, about #t-7 (pro): ... Alice"


def test_unknown_placeholders_stay_visible_to_the_agent() -> None:
    assert render("Dear {{customer.title}} {{customer.name}}", CONTEXT.values()) == "Dear {{customer.title}} Carol"


def test_substituted_text_is_not_rendered_again() -> None:
    sneaky = RenderContext("{{agent.name}}", "u", "t", "s", "free", "Alice")
    assert render_reply("Hi {{customer.name}}", sneaky) == "Hi {{agent.name}}"


def test_an_article_slug_appends_its_help_link() -> None:
    assert render_reply("See this:", CONTEXT, "reset-password") == "See this:\n\n/help/reset-password"
    with pytest.raises(ValueError):
        render_reply("x", CONTEXT, "../admin")
