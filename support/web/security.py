"""Security headers on every HTTP response: CSP, framing, nosniff, referrer policy.

Pages that hosts may embed (the Support tab) may be framed by the allowed origins only; the rest by nobody.
Scripts and style sheets get nosniff and the referrer policy (which a module's own imports follow) but no CSP or
framing header: those govern documents only, and on every module of the widget's first load they cost ~400 bytes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EMBEDDABLE = ("/support",)
SUBRESOURCES = (b"text/javascript", b"text/css")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...], status_url: str | None) -> None:
        self.app = app
        connect = " ".join(["'self'", "ws:", "wss:", *allowed_origins, *([status_url] if status_url else [])])
        base = (
            f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'"
        )
        ancestors = " ".join(["'self'", *allowed_origins])
        self.csp_embeddable = f"{base}; frame-ancestors {ancestors}".encode()
        self.csp_default = f"{base}; frame-ancestors 'none'".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embeddable = scope["path"] in EMBEDDABLE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                media_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                if not media_type.startswith(SUBRESOURCES):
                    extra.append((b"content-security-policy", self.csp_embeddable if embeddable else self.csp_default))
                    if not embeddable:
                        extra.append((b"x-frame-options", b"DENY"))
                headers.extend((k, v) for k, v in extra if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
