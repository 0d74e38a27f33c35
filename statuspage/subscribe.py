"""Subscriptions over HTTP: `POST /api/subscriptions` (double opt-in: a confirm link goes to the address first),
`GET /subscriptions/confirm`, and `GET`/`POST /subscriptions/unsubscribe` (the page, and the one-click POST that
mail clients send per RFC 8058). Answers 503 `unavailable` while subscriptions are off (no SMTP server configured),
429 `rate_limited` with Retry-After past the budgets per client address and per target (statuspage/rate_limits.py).

The subscriber's language (the body's `lang`, then `?lang=`, then Accept-Language) is stored when they subscribe:
their e-mails are written in it, and the links in them carry `?lang=` so these pages speak it too.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from statuspage.api import base_url, error, refusal
from statuspage.bodies import BodyError, NewSubscription, read_body
from statuspage.page import HEAD_LINKS, viewer_language
from statuspage.delivery import Deliveries
from statuspage.rate_limits import HourlyBudgets, retry_after
from statuspage.tables import utcnow
from statuspage.subscribers import LinkSigner, SubscriberStore
from support.core.i18n import message, negotiate


class _Words:
    """The subscription pages' messages (`status.subscription.*` in locales/) in the viewer's language."""

    def __init__(self, request: Request) -> None:
        self.language = viewer_language(request)

    def __getitem__(self, key: str) -> str:
        return message(self.language, f"status.subscription.{key}")


def _page(request: Request, text: str, extra: str = "", status: int = 200) -> HTMLResponse:
    t = _Words(request)
    html = (
        f'<!doctype html><html lang="{t.language}"><head><meta charset="utf-8"><title>Status updates</title>'
        f'{HEAD_LINKS}</head><body><main class="subscription">'
        f'<p data-hl="subscription-result">{escape(text)}</p>{extra}'
        f'<p><a href="/">{escape(t["back"])}</a></p></main></body></html>'
    )
    return HTMLResponse(html, status_code=status)


def _parts(request: Request) -> tuple[SubscriberStore, LinkSigner, Deliveries] | None:
    if not request.app.state.settings.subscriptions_on:
        return None
    state = request.app.state
    return state.subscribers, state.signer, state.deliveries


class SubscribeBudgets:
    """The two budgets of `POST /api/subscriptions`, one set per app."""

    def __init__(self, ip_per_hour: int, target_per_hour: int) -> None:
        self.per_ip = HourlyBudgets(ip_per_hour)
        self.per_target = HourlyBudgets(target_per_hour)


def _over_budget(request: Request, target: str, language: str) -> Response | None:
    """A 429 when this client address, or else this target, has asked too often; the client's budget is spent
    first, so one sender cycling through targets is stopped by it."""
    budgets: SubscribeBudgets = request.app.state.subscribe_budgets
    address = request.client.host if request.client else "unknown"
    wait = budgets.per_ip.take(address) or budgets.per_target.take(target)
    if not wait:
        return None
    refused = error(429, "rate_limited", message(language, "status.subscription.rate_limited"))
    refused.headers["Retry-After"] = retry_after(wait)
    return refused


async def subscribe(request: Request) -> Response:
    parts = _parts(request)
    if parts is None:
        return error(503, "unavailable", "subscriptions are off here (no SMTP server configured)")
    subscribers, _, deliveries = parts
    try:
        new = await read_body(request, NewSubscription)
        if (new.email is None) == (new.webhook is None):
            raise BodyError("bad_request", "give exactly one of email or webhook")
    except BodyError as exc:
        return refusal(exc)
    kind, target = ("email", new.email.lower()) if new.email is not None else ("webhook", str(new.webhook))
    # The e-mails' language: the body's `lang`, then ?lang=, then Accept-Language (kept with the subscriber).
    language = negotiate(new.lang, request.query_params.get("lang"), request.headers.get("accept-language"))
    limited = _over_budget(request, f"{kind}:{target}", language)
    if limited is not None:
        return limited
    subscriber = await subscribers.add(kind, target, utcnow(), language)
    if not subscriber.confirmed:  # a confirmed address is told nothing again; the answer is the same either way
        await deliveries.confirm(subscriber, base_url(request))
    return JSONResponse({"subscription": {"kind": kind, "status": "confirmation_sent"}}, status_code=202)


async def confirm(request: Request) -> Response:
    parts = _parts(request)
    t = _Words(request)
    if parts is None:
        return _page(request, t["bad_link"], status=404)
    subscribers, signer, _ = parts
    sid = signer.subscriber_of("confirm", request.query_params.get("token", ""))
    found = None if sid is None else await subscribers.confirm(sid, utcnow())
    if found is None:
        return _page(request, t["bad_link"], status=404)
    link = f"/subscriptions/unsubscribe?token={escape(signer.token('unsubscribe', found.id))}&amp;lang={t.language}"
    return _page(
        request, t["confirmed"], f'<p><a data-hl="unsubscribe" href="{link}">{escape(t["unsubscribe_link"])}</a></p>'
    )


async def unsubscribe(request: Request) -> Response:
    parts = _parts(request)
    t = _Words(request)
    if parts is None:
        return _page(request, t["bad_link"], status=404)
    subscribers, signer, _ = parts
    token = request.query_params.get("token", "")
    sid = signer.subscriber_of("unsubscribe", token)
    if sid is None:
        return _page(request, t["bad_link"], status=404)
    if request.method == "GET":  # link checkers fetch links: a GET only asks, the POST unsubscribes
        form = (
            f'<form method="post" action="/subscriptions/unsubscribe?token={escape(token)}&amp;lang={t.language}">'
            f'<p>{escape(t["unsubscribe_ask"])}</p><button data-hl="unsubscribe-confirm" type="submit">'
            f"{escape(t['unsubscribe_button'])}</button></form>"
        )
        return _page(request, "", form)
    await subscribers.remove(sid)
    return _page(request, t["unsubscribed"])


routes = [
    Route("/api/subscriptions", subscribe, methods=["POST"]),
    Route("/subscriptions/confirm", confirm, methods=["GET"]),
    Route("/subscriptions/unsubscribe", unsubscribe, methods=["GET", "POST"]),
]
