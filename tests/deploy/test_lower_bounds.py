"""Every runtime dependency states the lowest version it works with, so `make lowest` can install exactly that."""

from __future__ import annotations

import pytest

from tests.deploy.lower_bounds import constraints, lower_bound, runtime_requirements


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_every_runtime_dependency_has_a_lower_bound_to_pin() -> None:
    pins = constraints(runtime_requirements())
    assert len(pins) == len(runtime_requirements())
    assert all("==" in pin for pin in pins)


def test_uvicorn_is_at_least_the_release_whose_sans_io_protocol_the_server_builds_on() -> None:
    bounds = dict(lower_bound(r) for r in runtime_requirements())
    assert version(bounds["uvicorn"] or "0") >= (0, 53)  # the sans-I/O protocol with `frames` and `disconnected`


def test_a_requirement_without_a_lower_bound_is_refused() -> None:
    assert lower_bound("redis[hiredis]>=5  ") == ("redis", "5")
    assert lower_bound("uvicorn[standard]>=0.35,<1") == ("uvicorn", "0.35")
    with pytest.raises(ValueError):
        constraints(["starlette"])
