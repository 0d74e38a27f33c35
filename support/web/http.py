"""The HTTP pieces every feature's routes share: JSON responses, the error envelope, who is calling, bounded
bodies and integer parameters, and `endpoint`, which turns a TicketError into the contract's error body."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from support.core.errors import TicketError
from support.core.tokens import Identity, TokenError, bearer_token

MAX_BODY_BYTES = 64 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # each spends from a rate budget first


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    reason: str | None = None  # TicketError.reason, e.g. `ticket_closed`


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


_encoder = msgspec.json.Encoder()


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(value), status_code=status, media_type="application/json")


def error_response(
    code: str,
    message: str,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    reason: str | None = None,
) -> Response:
    status = status or TicketError.STATUS.get(code, 400)
    response = json_response(ErrorEnvelope(ErrorBody(code, message, reason)), status)
    response.headers.update(headers or {})
    return response


async def authenticate(request: Request) -> None:
    """Check the bearer token, when one was sent, before the handler runs: the verifier may have to fetch the
    identity provider's keys (I/O), and identify() is called from plain functions all over the API."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        try:
            request.state.identity = await request.app.state.gateway.verifier.verify(token)
        except TokenError as refused:
            request.state.identity = refused


def identify(request: Request) -> Identity:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise TicketError("unauthorized", "send Authorization: Bearer <token>")
    who = getattr(request.state, "identity", None)
    if who is None:
        raise RuntimeError("identify() is for handlers wrapped by @endpoint, which checks the token first")
    if isinstance(who, TokenError):
        raise TicketError("unauthorized", "token refused")
    identity: Identity = who
    return identity


def client_address(request: Request) -> str:
    """The peer's address; behind a trusted proxy, uvicorn has already put the forwarded one here."""
    return request.client.host if request.client else "unknown"


async def write_budget(request: Request) -> Response | None:
    """Spend one write from the caller's budget: 429 with Retry-After when it is empty, else None.

    A valid token spends the user's budget; no token, or one that is refused, spends the client address's, so
    neither anonymous writes nor a stream of bad tokens go unlimited."""
    if request.method not in WRITE_METHODS:
        return None
    who: Identity | None = None
    if request.headers.get("authorization"):
        try:
            who = identify(request)
        except TicketError:
            pass  # the handler refuses it with 401, once the address's budget allows an answer at all
    verdict = await request.app.state.gateway.budgets.take_write(who.id if who else None, client_address(request))
    if verdict.allowed:
        return None
    return error_response(
        "rate_limited", "too many requests; slow down", headers={"Retry-After": verdict.retry_after_header}
    )


async def read_body(request: Request, kind: type[Any]) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TicketError("too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise TicketError("too_large", f"bodies are limited to {MAX_BODY_BYTES} bytes")
    try:
        return msgspec.convert(_integral_floats_as_ints(msgspec.json.decode(raw)), kind)
    except RecursionError:
        raise TicketError("bad_request", "JSON is nested too deeply") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise TicketError("bad_request", str(exc)) from None


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON has one number type: 2.0 is the integer 2 (as JSON Schema says), so an integer field takes it."""
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is dict:
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if type(value) is list:
        return [_integral_floats_as_ints(v) for v in value]
    return value


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TicketError("bad_request", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise TicketError("bad_request", f"{name} must be between {low} and {high}")
    return value


def endpoint(handler: Any) -> Any:
    """Every HTTP API handler: writes spend from a rate budget first; TicketErrors become the contract's errors."""

    async def wrapped(request: Request) -> Response:
        try:
            await authenticate(request)
            refused = await write_budget(request)
            if refused is not None:
                return refused
            response: Response = await handler(request)
            return response
        except TicketError as exc:
            return error_response(exc.code, exc.message, exc.http_status, reason=exc.reason)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    wrapped.__module__ = handler.__module__  # support/web/openapi.py finds a route's openapi_ops by its module
    wrapped.__wrapped__ = handler  # type: ignore[attr-defined]
    return wrapped
