"""Optional OpenTelemetry tracing: a span per HTTP request and per message commit, off unless HELPLINE_TRACING.

Only the API is used (the `otel` extra): spans go wherever the process's tracer provider sends them, e.g. run the
command under `opentelemetry-instrument` with the OTEL_* variables. Nothing here runs when tracing is off: the bus
is wrapped and the middleware asks for spans only when it is on.
"""

from __future__ import annotations

from typing import Any

from support.core.bus import Bus, CommitResult, Draft
from support.core.environment import SettingsError

NAME = "helpline"


def tracer() -> Any:
    """The tracer, or a one-line error naming the setting when the API is not installed."""
    try:
        from opentelemetry import trace
    except ImportError:
        raise SettingsError("HELPLINE_TRACING: true needs OpenTelemetry: pip install 'helpline[otel]'") from None
    return trace.get_tracer(NAME)


def request_span(tracer: Any, method: str, route: str, request_id: str) -> Any:
    """The span of one HTTP request, named by its route template (as the metrics are labelled)."""
    from opentelemetry.trace import SpanKind

    return tracer.start_as_current_span(
        f"{method} {route}",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route, "helpline.request_id": request_id},
    )


class TracedBus:
    """The bus with a span around each commit (the one commit point); every other call goes straight through."""

    def __init__(self, bus: Bus, tracer: Any) -> None:
        self._bus = bus
        self._tracer = tracer

    async def commit(self, draft: Draft) -> CommitResult:
        with self._tracer.start_as_current_span(
            "helpline.commit", attributes={"helpline.ticket": draft.ticket}
        ) as span:
            result = await self._bus.commit(draft)
            span.set_attribute("helpline.seq", result.message.seq)
            span.set_attribute("helpline.duplicate", result.duplicate)
            return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)
