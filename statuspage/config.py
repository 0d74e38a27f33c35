"""The components file: which components the page shows, their order, and which one the probes drive.

Reads TOML only; it knows nothing of the store or HTTP.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

PACKAGED = Path(__file__).with_name("components.toml")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class ComponentSpec:
    id: str
    name: str
    description: str
    position: int
    probe: str | None  # "gateway": the probes set this component's status


@dataclass(frozen=True)
class PageSpec:
    name: str
    url: str
    time_zone: str
    components: tuple[ComponentSpec, ...]


class ConfigError(ValueError):
    """The components file is not usable; the message says where."""


def load(path: str | None) -> PageSpec:
    file = Path(path) if path else PACKAGED
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file}: {exc}") from None
    page = data.get("page", {})
    raw = data.get("components")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{file}: needs at least one [[components]] table")
    specs: list[ComponentSpec] = []
    for pos, item in enumerate(raw, start=1):
        cid, name = item.get("id"), item.get("name")
        if not isinstance(cid, str) or not _ID.match(cid):
            raise ConfigError(f"{file}: component {pos}: id must match {_ID.pattern}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{file}: component {cid}: name is required")
        if any(s.id == cid for s in specs):
            raise ConfigError(f"{file}: component id {cid} appears twice")
        probe = item.get("probe")
        if probe not in (None, "gateway"):
            raise ConfigError(f'{file}: component {cid}: probe must be "gateway"')
        specs.append(ComponentSpec(cid, name.strip(), str(item.get("description", "")), pos, probe))
    return PageSpec(
        name=str(page.get("name", "Status")),
        url=str(page.get("url", "")).rstrip("/"),
        time_zone=str(page.get("time_zone", "Etc/UTC")),
        components=tuple(specs),
    )
