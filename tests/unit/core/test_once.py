"""`Once`: a key asked for by several threads at the same time is computed by one of them."""

from __future__ import annotations

import threading

import pytest

from kiln.core.once import Once


def test_a_key_asked_for_while_it_is_computed_waits_for_that_computation() -> None:
    once = Once()
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> object:
        calls.append("slow")
        entered.set()
        release.wait(timeout=5)
        return object()

    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(once.get("k", slow)))
    first.start()
    assert entered.wait(timeout=5)
    second = threading.Thread(target=lambda: got.append(once.get("k", slow)))
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive()  # waiting for the first computation, not computing its own
    release.set()
    first.join(timeout=5)
    second.join(timeout=5)
    assert calls == ["slow"]
    assert len(got) == 2 and got[0] is got[1]


def test_a_failure_reaches_the_caller_and_is_not_remembered() -> None:
    once = Once()

    def failing() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        once.get("k", failing)
    assert once.get("k", lambda: 2) == 2
    assert once.get("k", lambda: 3) == 2  # a success is
