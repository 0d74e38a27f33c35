"""Typed settings from environment variables: each variable declares what it accepts, a mistake is one line.

msgspec.convert does the typing and the bounds (msgspec is already how every frame is decoded, so no second
validation library: pydantic-settings would add pydantic for about fifty scalar variables); this module adds what
an operator needs on top: strict booleans, the variable's own name in the message, and a "did you mean" for a
misspelt name. Pure: it reads the mapping it is given, never os.environ.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Collection, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import msgspec

PREFIX = "HELPLINE_"
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


class SettingsError(Exception):
    """A setting is not usable; str(error) is the one line an operator sees."""


Parser = Callable[[str], object]


@dataclass(frozen=True)
class Variable:
    """One environment variable: the settings field it sets (and the key, for a mapping field), how its text is
    read, what it accepts in words, and whether its value is a secret."""

    name: str
    field: str
    parse: Parser
    accepts: str
    meaning: str
    secret: bool = False
    key: str | None = None


def _convert(raw: object, kind: Any) -> object:
    return msgspec.convert(raw, kind, strict=False)


def integer(low: int | None = None, high: int | None = None) -> tuple[Parser, str]:
    target: Any = Annotated[int, msgspec.Meta(ge=low, le=high)]
    words = "an integer" + (
        f" from {low} to {high}"
        if low is not None and high is not None
        else f" of at least {low}"
        if low is not None
        else ""
    )
    return (lambda raw: _convert(raw.strip(), target)), words


def number(low: float = 0.0) -> tuple[Parser, str]:
    return _finite(Annotated[float, msgspec.Meta(ge=low)], f"a number of at least {low:g}")


def positive() -> tuple[Parser, str]:
    """A number above zero: rates, bursts, intervals and lifetimes (zero would divide by zero or spin)."""
    return _finite(Annotated[float, msgspec.Meta(gt=0)], "a number above 0")


def _finite(target: Any, words: str) -> tuple[Parser, str]:

    def parse(raw: str) -> object:
        value = _convert(raw.strip(), target)
        if value != value or value in (float("inf"), float("-inf")):  # nan and inf pass `ge` checks
            raise msgspec.ValidationError("not finite")
        return value

    return parse, words


def port() -> tuple[Parser, str]:
    return integer(1, 65535)


def boolean() -> tuple[Parser, str]:
    def parse(raw: str) -> object:
        word = raw.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise msgspec.ValidationError("not a boolean")

    return parse, "true or false (also 1/0, yes/no)"


def text() -> tuple[Parser, str]:
    return (lambda raw: raw), "any text"


def choice(*options: str) -> tuple[Parser, str]:
    def parse(raw: str) -> object:
        word = raw.strip().lower()
        if word not in options:
            raise msgspec.ValidationError("not an option")
        return word

    return parse, " or ".join(options)


def url(*schemes: str) -> tuple[Parser, str]:
    """A URL whose scheme is one of `schemes`: the backends that exist, so an unknown one is refused here."""

    def parse(raw: str) -> object:
        value = raw.strip()
        if "://" not in value or urlsplit(value).scheme.lower() not in schemes:
            raise msgspec.ValidationError("unknown scheme")
        return value

    return parse, "a URL starting with " + ", ".join(f"{s}://" for s in schemes[:-1]) + (
        " or " if len(schemes) > 1 else ""
    ) + f"{schemes[-1]}://"


def comma_list(clean: Callable[[str], str] = str.strip) -> tuple[Parser, str]:
    return (lambda raw: tuple(clean(item) for item in raw.split(",") if item.strip())), "a comma-separated list"


def variable(
    name: str, field: str, kind: tuple[Parser, str], meaning: str, *, secret: bool = False, key: str | None = None
) -> Variable:
    parse, accepts = kind
    return Variable(name, field, parse, accepts, meaning, secret, key)


def read(
    variables: Iterable[Variable], env: Mapping[str, str], only: Collection[str] | None = None
) -> dict[str, object]:
    """The fields the environment sets (an empty value counts as unset), limited to `only` when given: a command
    reads the settings it uses and no others, so a bad value elsewhere does not stop it."""
    values: dict[str, object] = {}
    for var in variables:
        if only is not None and var.field not in only:
            continue
        raw = env.get(var.name)
        if raw is None or raw.strip() == "":
            continue
        try:
            value = var.parse(raw)
        except (msgspec.ValidationError, ValueError):
            shown = "(hidden)" if var.secret else msgspec.json.encode(raw).decode()
            raise SettingsError(f"{var.name}: expected {var.accepts}, got {shown}") from None
        if var.key is None:
            values[var.field] = value
        else:
            mapping = values.setdefault(var.field, {})
            assert isinstance(mapping, dict)
            mapping[var.key] = value
    return values


def refuse_unknown(known: Collection[str], env: Mapping[str, str]) -> None:
    """A HELPLINE_* variable that nothing reads is a typo until shown otherwise: a misspelt database URL must stop
    the process, not leave it on the default."""
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise SettingsError(f"{name}: unknown setting{hint}; `helpline config` lists every setting")


def masked(var: Variable, value: object) -> str:
    """A value as `helpline config` shows it: secrets hidden, passwords in URLs hidden."""
    if value is None or value == "":
        return ""
    if var.secret:
        return "********"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = str(value)
    if "://" in shown:
        parts = urlsplit(shown)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":********@")
            shown = urlunsplit(parts._replace(netloc=netloc))
    return shown
