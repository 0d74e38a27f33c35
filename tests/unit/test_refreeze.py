"""The gateway's refreezing (helpline/collector.py `Refreezer`): what became long-lived is frozen out of the
automatic full collections, so they stay as small as at start-up however many objects pile up; and the bound's
full collection still frees a cycle that was frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from helpline.collector import Refreezer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    """A cyclic object, like a connection's state that refers back to itself."""

    def __init__(self) -> None:
        self.me = self
        self.items: list[object] = [{}, [], ()]


@pytest.fixture
def frozen_start() -> Iterator[None]:
    gc.collect()
    gc.freeze()  # what start-up made, as freeze_startup_heap does
    try:
        yield
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
        gc.collect()


def test_what_piles_up_is_frozen_out_of_the_full_collections(frozen_start: None) -> None:
    clock = Clock()
    refreezer = Refreezer(every_s=60, full_every_s=3600, clock=clock)
    gc.collect()
    walked_at_start = len(gc.get_objects())
    held = []
    for _ in range(5):  # thousands of long-lived objects (open connections), a refreeze after each burst
        held.extend(Node() for _ in range(2000))
        clock.now += 60
        assert refreezer.step() == 1
    assert len(gc.get_objects(2)) < 1000  # what an automatic full collection would walk: next to nothing
    gc.collect()
    assert len(gc.get_objects()) < walked_at_start + 1000
    assert gc.get_freeze_count() >= len(held) * 4  # each Node: itself, its list, a dict, a list


def test_a_cycle_frozen_as_garbage_is_freed_by_the_bound_full_collection(frozen_start: None) -> None:
    clock = Clock()
    refreezer = Refreezer(every_s=60, full_every_s=3600, clock=clock)
    node = Node()
    gone = weakref.ref(node)
    gc.collect(1)  # it reaches generation 2 while alive, as a connection's objects do
    clock.now += 60
    refreezer.step()  # frozen
    del node  # garbage now, but frozen: no collection sees it
    gc.collect()
    assert gone() is not None
    clock.now += 3600
    assert refreezer.step() == 2  # the bound: unfrozen, one full collection, frozen again
    assert gone() is None
    assert gc.get_freeze_count() > 0
