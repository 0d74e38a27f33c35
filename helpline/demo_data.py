"""Seeded demo data for `helpline up` with a generated secret: tickets in every state, canned replies, ratings.

Only the demo gets it (cmd_up passes seed_demo=settings.demo; an operator's HELPLINE_SECRET never seeds), and it is
seeded through the product's own services (TicketService, Workflow, the callback store), so what is seeded is what
the product would have made. Idempotent: every ticket is opened with a fixed client_id, and a ticket that already
exists (a second `helpline up` on the same database) is skipped with all its follow-ups; canned replies are keyed
by title.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from realtime.dispatch import Gateway
from support.core.clock import iso, utcnow
from support.core.tokens import Identity
from support.help.ports import Callbacks, CallbackView
from support.tickets.service import TicketService
from support.workflow.desk import Desk
from support.workflow.desk_ports import ViewFilters

log = logging.getLogger("helpline.demo")

# The same people as the demo sign-in tokens (helpline/app.py demo_token_set): signed in as Pat Pro, you see Pat's
# seeded tickets in the widget; signed in as Alice, the desk shows them all.
CUSTOMERS = {
    "free": Identity("demo-free", "Fran Free", "customer", "free", "en"),
    "pro": Identity("demo-pro", "Pat Pro", "customer", "pro", "en"),
    "pro_plus": Identity("demo-pro_plus", "Quinn ProPlus", "customer", "pro_plus", "vi"),
    "premium": Identity("demo-premium", "Priya Premium", "customer", "premium", "vi"),
}
# Two more free customers, whose reports of the same problem as Fran's make a signal (similar free reports).
OTHER_FREE = {
    "free-minh": Identity("demo-free-minh", "Minh Nguyen", "customer", "free", "vi"),
    "free-sam": Identity("demo-free-sam", "Sam Lee", "customer", "free", "en"),
}
ALICE = Identity("agent-alice", "Alice (Support)", "agent", "free")
BOB = Identity("agent-bob", "Bob (Support)", "agent", "free")

CANNED = (
    (
        "Greeting",
        "Hi {{customer.name}}, thanks for reaching out about “{{ticket.subject}}”. I'm {{agent.name}} and I'm "
        "looking into it now.",
    ),
    (
        "Lời chào",
        "Chào {{customer.name}}, cảm ơn bạn đã liên hệ về “{{ticket.subject}}”. Mình là {{agent.name}}, mình đang "
        "kiểm tra ngay.",
    ),
    (
        "Need more details",
        "Could you send a screenshot and the time it happened (with your time zone)? That lets us find it in our logs.",
    ),
    ("Solved, anything else?", "This should be fixed now. If anything else comes up, just reply here."),
)


# Saved views on the desk (desk1's saved views), keyed by name.
VIEWS = (
    ("Missed first response", ViewFilters(breached=True)),
    ("Open bugs", ViewFilters(status="open", tag="bug")),
)


@dataclass(frozen=True)
class Step:
    """One thing done to a seeded ticket, in order: a message (by the customer or an agent, maybe internal), a
    status change, an assignment, a rating, a review of a free report."""

    kind: str  # "customer" | "agent" | "note" | "status" | "assign" | "rate" | "review" | "tag"
    text: str = ""
    score: int = 0
    agent: Identity = ALICE


@dataclass(frozen=True)
class SeedTicket:
    key: str
    plan: str  # the customer: a plan of CUSTOMERS (the demo sign-in's people), or a key of OTHER_FREE
    subject: str
    body: str
    category: str
    context: dict[str, Any]
    steps: tuple[Step, ...] = ()
    breached: bool = False  # opened with no time to answer: its first-response target is missed
    callback: str | None = None  # a phone number: opened as a premium callback request


TICKETS = (
    SeedTicket(
        "chart-freeze",
        "pro",
        "The chart freezes on the 1m timeframe",
        "Since this morning the BTCUSD chart stops updating after a minute on 1m. 15m works fine.",
        "bug",
        {"page": "chart", "symbol": "BTCUSD", "timeframe": "1m"},
        (
            Step("tag", "bug chart"),
            Step("assign"),
            Step(
                "note",
                "Reproduced on Chrome 131; the 1m feed drops after the first reconnect. Filed with the data team.",
            ),
        ),
    ),
    SeedTicket(
        "withdrawal",
        "premium",
        "Không rút được tiền về tài khoản ngân hàng",
        "Tôi đặt lệnh rút 20 triệu đồng từ hôm qua nhưng trạng thái vẫn là “đang xử lý”. Mong được hỗ trợ gấp.",
        "billing",
        {"page": "watchlist"},
        (Step("tag", "billing vip"),),
        breached=True,
    ),
    SeedTicket(
        "late-answer",
        "pro",
        "Invoice shows the wrong VAT number",
        "My December invoice has our old VAT number. Can you reissue it with DE 811 907 980?",
        "billing",
        {"page": "chart", "symbol": "EURUSD", "timeframe": "1D"},
        (
            Step("tag", "billing invoice"),
            Step("assign", agent=BOB),
            Step(
                "agent",
                "Sorry for the wait. I've asked billing to reissue it; you'll get it by e-mail today.",
                agent=BOB,
            ),
        ),
        breached=True,
    ),
    SeedTicket(
        "two-factor",
        "pro_plus",
        "Lost my phone, can't sign in (2FA)",
        "I lost my phone with the authenticator app. How do I get back into my account?",
        "account",
        {"page": "chart", "symbol": "ETHUSD", "timeframe": "15m"},
        (
            Step("tag", "account 2fa"),
            Step("assign"),
            Step(
                "agent",
                "Hi Quinn, I can reset it once we verify it's you. Could you reply with a photo of your ID and the "
                "last four digits of the card on file?",
            ),
            Step("status", "pending"),
        ),
    ),
    SeedTicket(
        "vnindex-data",
        "free",
        "Dữ liệu VNINDEX bị trễ 15 phút",
        "Biểu đồ VNINDEX của tôi chậm khoảng 15 phút so với bảng giá của sàn. Có phải lỗi không?",
        "data",
        {"page": "chart", "symbol": "VNINDEX", "timeframe": "15m"},
        (
            Step("tag", "data"),
            Step("assign"),
            Step(
                "agent",
                "Chào bạn, gói Free hiển thị dữ liệu VNINDEX trễ 15 phút theo quy định của sàn. Gói Pro có dữ liệu "
                "thời gian thực.",
            ),
            Step("customer", "À, mình hiểu rồi. Cảm ơn bạn nhiều!"),
            Step("status", "solved"),
            Step("rate", "Trả lời nhanh và rõ ràng.", score=5),
        ),
    ),
    SeedTicket(
        "export-csv",
        "pro",
        "How do I export my trade history to CSV?",
        "I need my 2025 trades for my accountant. Is there a CSV export?",
        "question",
        {"page": "watchlist"},
        (
            Step("tag", "how-to"),
            Step("assign", agent=BOB),
            Step(
                "agent",
                "Yes: Account → History → Export, pick the year and CSV. It arrives by e-mail within a few minutes.",
                agent=BOB,
            ),
            Step("customer", "Got it, thanks!"),
            Step("status", "solved", agent=BOB),
            Step("rate", "Quick answer.", score=4),
            Step("status", "closed", agent=BOB),
        ),
    ),
    SeedTicket(
        "alerts",
        "pro_plus",
        "Cảnh báo giá không gửi thông báo",
        "Tôi đặt cảnh báo XAUUSD ở 2400 nhưng giá đã vượt mà không nhận được thông báo nào.",
        "bug",
        {"page": "chart", "symbol": "XAUUSD", "timeframe": "1h"},
        (
            Step("tag", "bug mobile"),
            Step("assign"),
            Step("note", "Push token expired for this device; asked mobile team to refresh tokens on login."),
            Step("agent", "Chào bạn, lỗi đã được sửa. Bạn vui lòng đăng nhập lại trên điện thoại để nhận thông báo."),
            Step("status", "solved"),
            Step("rate", "Đã sửa nhưng hơi lâu.", score=3),
        ),
    ),
    SeedTicket(
        "dark-mode",
        "free",
        "Dark mode resets after reload",
        "Every time I reload the page the theme goes back to light.",
        "bug",
        {"page": "chart", "symbol": "AAPL", "timeframe": "1D"},
        (
            Step("tag", "bug"),
            Step("review"),
        ),
    ),
    SeedTicket(
        "dark-mode-2",
        "free-sam",
        "Dark mode goes back to light after reload",
        "I switch to dark mode and after a page reload the theme resets to light again.",
        "bug",
        {"page": "watchlist"},
        (Step("tag", "bug"),),
    ),
    SeedTicket(
        "dark-mode-3",
        "free-minh",
        "Dark mode resets after every reload",
        "Dark mode resets to the light theme each time I reload the chart page (Chế độ tối bị mất khi tải lại).",
        "bug",
        {"page": "chart", "symbol": "VNINDEX", "timeframe": "1h"},
    ),
    SeedTicket(
        "watchlist-order",
        "free",
        "Watchlist order is lost",
        "I sort my watchlist by change but it goes back to alphabetical next time.",
        "bug",
        {"page": "watchlist"},
        (
            Step("tag", "bug"),
            Step("review"),
        ),
    ),
    SeedTicket(
        "callback",
        "premium",
        "Phone callback request",
        "Please call me about moving my portfolio to a joint account.",
        "callback",
        {},
        (Step("tag", "vip"),),
        callback="+84 90 123 4567",
    ),
)


async def seed(gateway: Gateway, callbacks: Callbacks, desk: Desk) -> int:
    """Seed what is missing; returns how many tickets were created (0 on a database seeded before)."""
    await _seed_canned(gateway)
    await _seed_views(desk)
    created = 0
    for ticket in TICKETS:
        try:
            created += await _seed_ticket(gateway, callbacks, desk, ticket)
        except Exception:  # the demo still starts; the log says which seeded ticket failed
            log.exception("demo data: ticket %s not seeded", ticket.key)
    return created


async def _seed_views(desk: Desk) -> None:
    have = {view.name for view in await desk.db.list_views()}
    for name, filters in VIEWS:
        if name not in have:
            await desk.add_view(ALICE, name, filters)


async def _seed_canned(gateway: Gateway) -> None:
    have = {reply.title for reply in await gateway.workflow.db.list_canned()}
    for title, body in CANNED:
        if title not in have:
            await gateway.workflow.add_canned(ALICE, title, body)


async def _seed_ticket(gateway: Gateway, callbacks: Callbacks, desk: Desk, seed_ticket: SeedTicket) -> int:
    who = CUSTOMERS.get(seed_ticket.plan) or OTHER_FREE[seed_ticket.plan]
    tickets = gateway.tickets
    if seed_ticket.breached:
        # A target of 0 s: due the moment it opens, so unanswered it is breached and answered it was late.
        settings = gateway.settings
        targets = {**settings.response_targets_s, who.plan: 0}
        tickets = TicketService(dataclasses.replace(settings, response_targets_s=targets), gateway.store, gateway.bus)
    context = dict(seed_ticket.context)
    callback_id = f"{int(time.time() * 1000):x}{secrets.token_hex(5)}" if seed_ticket.callback else None
    if callback_id:
        context["callback"] = callback_id
    view, created = await tickets.open_ticket(
        who,
        seed_ticket.subject,
        seed_ticket.body,
        seed_ticket.category,
        None,
        context or None,
        f"demo-seed:{seed_ticket.key}",
    )
    if not created:
        return 0
    if seed_ticket.breached:
        gateway.tickets.observe(view)
    if callback_id and seed_ticket.callback:
        now = utcnow()
        await callbacks.add(
            CallbackView(
                callback_id,
                view.id,
                {"id": who.id, "name": who.name},
                seed_ticket.callback,
                "weekday mornings",
                seed_ticket.body,
                "requested",
                iso(now) or "",
                None,
                None,
            ),
            f"demo-seed:{seed_ticket.key}",
            now,
        )
    for n, step in enumerate(seed_ticket.steps):
        client_id = f"demo-seed:{seed_ticket.key}:{n}"
        if step.kind == "customer":
            await gateway.tickets.post(who, view.id, client_id, step.text, False)
        elif step.kind in ("agent", "note"):
            await gateway.tickets.post(step.agent, view.id, client_id, step.text, step.kind == "note")
        elif step.kind == "status":
            await gateway.tickets.update(step.agent, view.id, step.text)
        elif step.kind == "assign":
            await gateway.tickets.update(step.agent, view.id, None, step.agent.id)
        elif step.kind == "rate":
            await gateway.workflow.rate(who, view.id, step.score, step.text)
        elif step.kind == "review":
            await gateway.workflow.set_reviewed(step.agent, view.id, True)
        elif step.kind == "tag":
            await desk.tag(step.agent, view.id, step.text.split(), [])
    return 1
