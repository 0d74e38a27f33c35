"""What the browser tests do on Helpline's pages, as a user does it: shared steps, no assertions of their own
beyond waiting for what the step must show."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

from tests.services import unavailable

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails under CI=true) with the reason
    expect = None  # type: ignore[assignment]


def hl(name: str) -> str:
    return f'[data-hl="{name}"]'


def fill_widget_form(page: Any, subject: str, body: str) -> None:
    """Launcher → new request → subject and body typed (not sent)."""
    page.locator(hl("launcher")).click()
    page.locator(hl("new-ticket")).click()
    page.locator(hl("subject")).fill(subject)
    page.locator(hl("body")).fill(body)


def open_widget_ticket(page: Any, subject: str, body: str) -> None:
    fill_widget_form(page, subject, body)
    page.locator(hl("submit")).click()
    expect(page.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_contain_text(body)


def open_in_dashboard(agent: Any, subject: str) -> None:
    agent.locator(hl("queue-item"), has_text=subject).click()
    expect(agent.locator(hl("ticket-subject"))).to_have_text(subject)
    expect(agent.locator(f'{hl("thread")} {hl("message")}[data-seq="1"]')).to_be_visible()


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (21, 101, 192)) -> bytes:
    """A real PNG of one colour, made here so the tests carry no binary files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (the copy the axe-playwright-python test dependency ships) run on the page, shadow roots included:
    the serious and critical violations only."""
    try:
        import axe_playwright_python
    except ImportError:
        unavailable("axe-playwright-python is not installed (pip install -e '.[test]')")
    # Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not apply to the checker.
    page.evaluate((Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
