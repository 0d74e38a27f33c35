"""How a process logs: JSON (one object a line) for a collector, or plain text for a terminal; the level by setting.

Every line carries the request or connection id and the ticket id where the task has one (support/core/log_context).
Configured once per serving command; uvicorn's own loggers go through the same handler.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from support.core import log_context

CONTEXT_FIELDS = ("request_id", "connection_id", "ticket_id")


def _context(record: logging.LogRecord) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None) or getattr(log_context, name).get()  # `extra=` wins over the task's
        if value:
            found[name] = str(value)
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context ids, the access log's fields."""

    ACCESS_FIELDS = ("method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        for name in self.ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal: the usual line, with the context ids in brackets at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = _context(record)
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return line


def configure(log_format: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request at INFO: the status page's probes, every few seconds. DEBUG shows them.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level.lower() == "debug" else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):  # their lines in the same format, not uvicorn's own handler
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
