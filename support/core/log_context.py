"""What a log line is about, carried by the task that logs it: the HTTP request or WebSocket connection, the ticket.

Set where the work starts (the access log middleware, a connection's task) and read by the log formatter; context
variables, so concurrent requests never see each other's ids. Pure: no handlers here.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
connection_id: ContextVar[str | None] = ContextVar("connection_id", default=None)
ticket_id: ContextVar[str | None] = ContextVar("ticket_id", default=None)
