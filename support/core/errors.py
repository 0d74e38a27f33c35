"""The app-wide refusals: `TicketError` (a contract error code; the edges turn it into an HTTP status or an error
frame) and `Unavailable` (a backend cannot take the step right now; nothing was acked)."""

from __future__ import annotations


class TicketError(Exception):
    """A refusal with a contract error code; the edges turn it into an HTTP status or an error frame."""

    STATUS = {
        "bad_request": 400,
        "unauthorized": 401,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "too_large": 413,
        "rate_limited": 429,
        "unavailable": 503,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return self.STATUS.get(self.code, 400)


class Unavailable(Exception):
    """The bus cannot commit right now (e.g. Redis is down); nothing was acked."""
