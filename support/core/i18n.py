"""Languages for server-rendered text: which language a viewer gets, and messages, plurals and dates in it.

The messages are the `locales` data package (`locales/en.json`, `locales/vi.json`), the same catalogue the browser
code loads. Flat dotted keys grouped by surface (`widget.*`, `desk.*`, `support.*`, `help.*`, `status.*`, `email.*`,
`errors.*`, `demo.*`), `{name}` placeholders, plurals as objects keyed by CLDR plural category. Shared with the status page,
so it imports nothing else of the project.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from importlib.resources import files
from typing import Mapping, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal

LANGUAGES = ("en", "vi")
DEFAULT_LANGUAGE = "en"
SURFACES = ("widget", "desk", "support", "help", "status", "email", "errors", "demo")

Message = Union[str, dict[str, str]]
Catalogue = dict[str, Message]

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=None)
def catalogue(language: str) -> Catalogue:
    """Every message of one language, as shipped in the `locales` package."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}")
    data: Catalogue = json.loads(files("locales").joinpath(f"{language}.json").read_text(encoding="utf-8"))
    return data


def surface_messages(language: str, surface: str) -> Catalogue:
    """The messages of one surface (`widget`, `status`, …), keys kept whole: what a browser module carries."""
    prefix = surface + "."
    return {key: value for key, value in catalogue(language).items() if key.startswith(prefix)}


def supported(tag: str | None) -> str | None:
    """The language of a tag (`vi`, `vi-VN`, `en_GB`), or None when it is none of ours."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def accept_language(header: str | None) -> list[str]:
    """The tags of an `Accept-Language` header, most wanted first (RFC 9110 12.5.4); q=0 means "not this"."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(claim: str | None = None, query: str | None = None, accept: str | None = None) -> str:
    """The viewer's language: the token's `locale` claim, then `?lang=`, then `Accept-Language`, then English."""
    for tag in (claim, query, *accept_language(accept)):
        language = supported(tag)
        if language:
            return language
    return DEFAULT_LANGUAGE


def plural_category(language: str, count: float) -> str:
    """The CLDR plural category of `count` in `language` (`one`, `other`, …), as Intl.PluralRules gives it."""
    return str(Locale.parse(language).plural_form(count))


def _format_value(language: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(format_decimal(value, locale=language))
    return str(value)


def message(language: str, key: str, params: Mapping[str, object] | None = None) -> str:
    """The message `key` in `language` with its `{name}` placeholders filled; a plural picks its form by `count`.

    A key missing from the catalogue is a bug (the catalogue test keeps both languages in step): KeyError."""
    values = dict(params or {})
    entry = catalogue(language)[key]
    if isinstance(entry, dict):
        count = values.get("count", 0)
        number = count if isinstance(count, (int, float)) else 0
        entry = entry.get(plural_category(language, number), entry["other"])
    return PLACEHOLDER.sub(
        lambda match: _format_value(language, values[match.group(1)]) if match.group(1) in values else match.group(0),
        entry,
    )


def time_zone(name: str | None) -> ZoneInfo | timezone:
    """The viewer's time zone by IANA name (`Asia/Ho_Chi_Minh`), UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def format_datetime(value: datetime, language: str, zone: str | None = None, width: str = "medium") -> str:
    """A date and time in the viewer's language and time zone (Babel's CLDR patterns: `medium`, `short`, `long`)."""
    moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return str(babel_format_datetime(moment, format=width, tzinfo=time_zone(zone), locale=language))
