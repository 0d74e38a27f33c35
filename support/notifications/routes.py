"""`/api/email/unsubscribe`: the link in every reply e-mail (GET shows a page, POST is RFC 8058's one-click)."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from support.core.clock import utcnow
from support.core.errors import TicketError
from support.core.i18n import message, negotiate
from support.notifications.links import user_of_token
from support.notifications.ports import ReplyMailStore
from support.web.http import endpoint
from support.web.openapi import Operation, Param, api_routes


def _lang(request: Request) -> str:
    """No token here (the link is opened from a mail client): `?lang=`, then the browser's languages."""
    return negotiate(query=request.query_params.get("lang"), accept=request.headers.get("accept-language"))


def _page(lang: str, title: str, body: str, status: int) -> Response:
    e = html.escape
    return HTMLResponse(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title></head>'
        f'<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{e(title)}</h1><p>{e(body)}</p></body></html>",
        status_code=status,
    )


@endpoint
async def unsubscribe_page(request: Request) -> Response:
    lang = _lang(request)
    user_id = _user(request)
    if user_id is None:  # forged or mangled: no such link, as for any unknown id
        return _page(lang, message(lang, "email.linkInvalidTitle"), message(lang, "email.linkInvalid"), status=404)
    await _store(request).unsubscribe(user_id, utcnow())
    return _page(lang, message(lang, "email.unsubscribedTitle"), message(lang, "email.unsubscribed"), status=200)


@endpoint
async def unsubscribe_one_click(request: Request) -> Response:
    user_id = _user(request)
    if user_id is None:
        raise TicketError("not_found", "no such unsubscribe link")
    await _store(request).unsubscribe(user_id, utcnow())
    return Response(status_code=204)


def _user(request: Request) -> str | None:
    mail = request.app.state.mail  # MailSettings, or None when reply e-mails are off
    return user_of_token(mail.key, request.query_params.get("token", "")) if mail else None


def _store(request: Request) -> ReplyMailStore:
    store: ReplyMailStore = request.app.state.reply_mail
    return store


_TOKEN = (Param("token", str, "the signed token of the link", required=True),)
routes = api_routes(
    (
        unsubscribe_page,
        Operation(
            "GET",
            "/api/email/unsubscribe",
            "Stop reply e-mails (the link in each e-mail): a page saying so",
            auth="none",
            tag="email",
            query=_TOKEN,
            media_type="text/html",
        ),
    ),
    (
        unsubscribe_one_click,
        Operation(
            "POST",
            "/api/email/unsubscribe",
            "One-click unsubscribe (RFC 8058, from the List-Unsubscribe-Post header)",
            auth="none",
            tag="email",
            query=_TOKEN,
            status=204,
        ),
    ),
)
