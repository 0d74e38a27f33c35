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

    def __init__(self, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # A finer, stable word for clients that act on it (e.g. `ticket_closed`: offer a follow-up); the code
        # stays the contract's, so a client that knows only the codes keeps working.
        self.reason = reason

    @property
    def http_status(self) -> int:
        return self.STATUS.get(self.code, 400)


class Unavailable(Exception):
    """The bus cannot commit right now (e.g. Redis is down); nothing was acked."""
