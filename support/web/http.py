"""The HTTP pieces every feature's routes share: JSON responses, the error envelope, who is calling, bounded
bodies and integer parameters, and `endpoint`, which turns a TicketError into the contract's error body."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from support.core.errors import TicketError
from support.core.tokens import Identity, TokenError, bearer_token, verify_token

MAX_BODY_BYTES = 64 * 1024


class ErrorBody(msgspec.Struct):
    code: str
    message: str


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


_encoder = msgspec.json.Encoder()


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(value), status_code=status, media_type="application/json")


def error_response(code: str, message: str, status: int | None = None) -> Response:
    status = status or TicketError.STATUS.get(code, 400)
    return json_response(ErrorEnvelope(ErrorBody(code, message)), status)


def identify(request: Request) -> Identity:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise TicketError("unauthorized", "send Authorization: Bearer <token>")
    gateway = request.app.state.gateway
    try:
        who = verify_token(token, gateway.settings.secret)
    except TokenError:
        raise TicketError("unauthorized", "token refused") from None
    if request.method not in ("GET", "HEAD") and not gateway.http_writes.take(who.id):
        raise TicketError("rate_limited", "too many requests; slow down")
    return who


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
    """Turn TicketErrors raised by a handler into the contract's error bodies."""
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except TicketError as exc:
            return error_response(exc.code, exc.message, exc.http_status)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    wrapped.__module__ = handler.__module__  # support/web/openapi.py finds a route's openapi_ops by its module
    wrapped.__wrapped__ = handler  # type: ignore[attr-defined]
    return wrapped
