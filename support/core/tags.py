"""Tags on tickets, the pure part: what a tag may look like and how a change applies to a ticket's set.

A tag is a short label (`billing`, `bug-report`, `vip`): letters, digits (any script, so `hóa-đơn` is one), `-` and
`_`, starting with a letter or digit, at most 40 characters (PATTERN, also the OpenAPI document's); a ticket carries
at most MAX_TAGS. A valid tag is stored lowercased, so "Billing" and "billing" are one tag.
"""

from __future__ import annotations

import re
from typing import Iterable

from support.core.errors import TicketError

MAX_TAGS = 20
MAX_LENGTH = 40
PATTERN = r"^[^\W_][\w-]*$"
_TAG = re.compile(PATTERN)


def _valid(value: str) -> bool:
    return 0 < len(value) <= MAX_LENGTH and _TAG.fullmatch(value) is not None


def normalised(tag: str) -> str:
    """The tag as stored, or TicketError(bad_request) saying what is wrong with it."""
    if tag.endswith("\n"):  # PATTERN's `$` (Python's and msgspec's) lets one trailing newline through
        tag = tag[:-1]
    if not _valid(tag):
        raise TicketError(
            "bad_request", f"a tag is 1-{MAX_LENGTH} letters, digits, '-' or '_', starting with a letter or digit"
        )
    lowered = tag.lower()
    return lowered if _valid(lowered) else tag  # a few letters grow when lowercased (İ): kept as written


def normalised_all(tags: Iterable[str]) -> list[str]:
    return sorted({normalised(t) for t in tags})


def apply_change(current: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    """The ticket's new tag set, sorted: `remove` wins over `add` for a tag named in both."""
    removed = set(remove)
    result = sorted((set(current) | set(add)) - removed)
    if len(result) > MAX_TAGS:
        raise TicketError("bad_request", f"a ticket carries at most {MAX_TAGS} tags")
    return result
