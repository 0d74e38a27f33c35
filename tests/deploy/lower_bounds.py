"""The runtime dependencies pinned to their declared lower bounds, as a pip constraints file.

`make lowest` installs the project with these constraints into .venv-lowest and runs the suite's core there, so a
bound in pyproject.toml is one the code was seen to work with, not a guess. Run: python -m tests.deploy.lower_bounds
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?P<spec>[^;]*)")
LOWER = re.compile(r">=\s*(?P<version>[0-9][0-9A-Za-z.]*)")


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def lower_bound(requirement: str) -> tuple[str, str | None]:
    """(name, the version after `>=`, or None when the requirement states no lower bound)."""
    match = REQUIREMENT.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    bound = LOWER.search(match["spec"])
    return match["name"].lower(), bound["version"] if bound else None


def constraints(requirements: list[str]) -> list[str]:
    pins = []
    for requirement in requirements:
        name, version = lower_bound(requirement)
        if version is None:
            raise ValueError(f"{requirement!r} has no lower bound")
        pins.append(f"{name}=={version}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("\n".join(constraints(runtime_requirements())) + "\n")
