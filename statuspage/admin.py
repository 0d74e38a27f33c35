"""Who may change the status page: an admin's JWT, sent as a Bearer token (scripts, curl) or held by the browser in
the incident desk's session cookie (`POST /api/session` with the token; HttpOnly, SameSite=Strict).

A write authenticated by the cookie must come from this origin (`Origin` or `Sec-Fetch-Site`), so another site
cannot make a signed-in admin's browser publish anything. The JWT is checked on every request, its expiry included.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from statuspage.bodies import BodyError, SessionStart, read_body
from statuspage.tables import Actor
from support.core.tokens import Identity, TokenError, TokenVerifier, bearer_token

COOKIE = "hl_status_admin"
SESSION_S = 8 * 3600  # the cookie's own life; the token inside may end it sooner
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    own = urlsplit(str(request.base_url))
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (own.scheme, own.netloc)


async def _identity(verifier: TokenVerifier, token: str) -> Identity | Response:
    try:
        identity = await verifier.verify(token)
    except TokenError as exc:
        return error(401, "unauthorized", f"token refused: {exc}")
    if identity.role != "admin":
        return error(403, "forbidden", "only admins may change the status page")
    return identity


async def admin_of(request: Request) -> Actor | Response:
    """The admin making this request, or the answer that refuses it (401, 403)."""
    verifier: TokenVerifier = request.app.state.verifier
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        token = request.cookies.get(COOKIE)
        if token is None:
            return error(401, "unauthorized", "an admin token is required")
        if request.method not in SAFE_METHODS and not _same_origin(request):
            return error(403, "forbidden", "a signed-in change must come from the incident desk itself")
    found = await _identity(verifier, token)
    if isinstance(found, Response):
        return found
    return Actor(found.id, found.name)


async def start_session(request: Request) -> Response:
    """Sign in to the incident desk: the admin token, checked, becomes the session cookie."""
    if not _same_origin(request):
        return error(403, "forbidden", "sign in from the incident desk itself")
    try:
        started = await read_body(request, SessionStart)
    except BodyError as exc:
        return error(exc.status, exc.code, exc.message)
    found = await _identity(request.app.state.verifier, started.token.strip())
    if isinstance(found, Response):
        return found
    response = JSONResponse({"admin": {"id": found.id, "name": found.name}})
    response.set_cookie(
        COOKIE,
        started.token.strip(),
        max_age=SESSION_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def who_is_signed_in(request: Request) -> Response:
    found = await admin_of(request)
    if isinstance(found, Response):
        return found
    return JSONResponse({"admin": {"id": found.id, "name": found.name}})


async def end_session(request: Request) -> Response:
    response = JSONResponse({"admin": None})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


routes = [
    Route("/api/session", who_is_signed_in, methods=["GET"]),
    Route("/api/session", start_session, methods=["POST"]),
    Route("/api/session", end_session, methods=["DELETE"]),
]
