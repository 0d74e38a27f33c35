"""Tags on tickets, the pure part: what a tag may look like and how a change applies to a ticket's set.

A tag is a short lowercase label (`billing`, `bug-report`, `vip`): letters, digits (any script, so `hóa-đơn` is one),
`-` and `_`, at most 40 characters; a ticket carries at most MAX_TAGS. Input is normalised (trimmed, lowercased)
before it is checked, so "Billing " and "billing" are one tag.
"""

from __future__ import annotations

import re
from typing import Iterable

from support.core.errors import TicketError

MAX_TAGS = 20
MAX_LENGTH = 40
_TAG = re.compile(r"^[^\W_][\w-]*$")


def normalised(tag: str) -> str:
    """The tag as stored, or TicketError(bad_request) saying what is wrong with it."""
    value = tag.strip().lower()
    if not value or len(value) > MAX_LENGTH or not _TAG.match(value):
        raise TicketError(
            "bad_request", f"a tag is 1-{MAX_LENGTH} letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value


def normalised_all(tags: Iterable[str]) -> list[str]:
    return sorted({normalised(t) for t in tags})


def apply_change(current: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    """The ticket's new tag set, sorted: `remove` wins over `add` for a tag named in both."""
    removed = set(remove)
    result = sorted((set(current) | set(add)) - removed)
    if len(result) > MAX_TAGS:
        raise TicketError("bad_request", f"a ticket carries at most {MAX_TAGS} tags")
    return result
