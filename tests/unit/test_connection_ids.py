"""Connection ids name a connection in presence and the agents' room on every node: never the same twice, not in
one process, not in two nodes, not in a forked worker."""

from __future__ import annotations

import os

from realtime.connection import ConnectionIds


def test_ids_of_one_process_are_all_different() -> None:
    ids = ConnectionIds()
    drawn = [ids.next() for _ in range(10_000)]
    assert len(set(drawn)) == len(drawn)


def test_two_processes_draw_different_ids() -> None:
    assert ConnectionIds().next() != ConnectionIds().next()  # each node its own random prefix


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    ids = ConnectionIds()
    ids.next()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it draws next, to the parent
        os.write(write, ids.next().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    assert child and child != ids.next()
