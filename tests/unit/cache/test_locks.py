"""File locks: one holder at a time, and a waiter that says what it waits for."""

from __future__ import annotations

import threading
from pathlib import Path

from kiln.cache.locks import file_lock


def test_a_second_holder_waits_says_so_and_then_gets_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "entry.lock"
    told = threading.Event()
    got = threading.Event()
    order: list[str] = []

    def second() -> None:
        with file_lock(path, waiting=lambda p: (order.append(f"waiting {p.name}"), told.set())):
            order.append("second has it")
            got.set()

    with file_lock(path):
        thread = threading.Thread(target=second)
        thread.start()
        assert told.wait(60), "the waiter never said it was waiting"
        assert not got.is_set(), "the lock was held twice"
        order.append("first lets go")
    thread.join(60)
    assert order == ["waiting entry.lock", "first lets go", "second has it"]


def test_an_uncontended_lock_says_nothing(tmp_path: Path) -> None:
    said: list[Path] = []
    with file_lock(tmp_path / "free.lock", waiting=said.append):
        pass
    assert said == []
