"""Which language a help page or search answers in: the token's `locale` claim, then `?lang=`, then the browser's
Accept-Language, then English (issue 19's order). Pure; one small function so the shared negotiation of the
i18n work can replace it without touching its callers.
"""

from __future__ import annotations

SUPPORTED = ("en", "vi")
DEFAULT = "en"


def primary(tag: str | None) -> str | None:
    """ "vi-VN" → "vi" when we have it, else None."""
    code = (tag or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in SUPPORTED else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (q-values honoured, order breaks ties)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = primary(tag)
        if code and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else None


def choose(token_locale: str | None, query_lang: str | None, accept_language: str | None) -> str:
    return primary(token_locale) or primary(query_lang) or from_accept_language(accept_language) or DEFAULT
