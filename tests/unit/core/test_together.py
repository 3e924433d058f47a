"""Blocking calls run at once: each one's result in order, a failure raised after all ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from kiln.core.together import first_answer, together


def test_the_calls_run_at_the_same_time() -> None:
    # Each call waits at the barrier for the others: one after the other, none would pass.
    barrier = threading.Barrier(3, timeout=10)
    assert sorted(together([barrier.wait, barrier.wait, barrier.wait])) == [0, 1, 2]


def test_results_come_in_the_calls_order() -> None:
    def late(value: int) -> int:
        time.sleep(0.05 * (3 - value))
        return value

    assert together([lambda: late(0), lambda: late(1), lambda: late(2)]) == [0, 1, 2]


def test_a_failure_is_raised_once_every_call_has_ended() -> None:
    finished = threading.Event()

    def slow() -> int:
        time.sleep(0.2)
        finished.set()
        return 1

    def fails() -> int:
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        together([fails, slow])
    assert finished.is_set()


def test_the_first_answer_is_taken_without_waiting_for_slower_calls() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "slow"

    assert first_answer([slow, lambda: "fast"]) == "fast"
    assert not release.is_set()
    release.set()


def test_no_answer_is_not_an_answer() -> None:
    def late() -> int:
        time.sleep(0.05)
        return 2

    assert first_answer([lambda: None, late]) == 2
    assert first_answer([lambda: None, lambda: None]) is None


def test_a_failure_counts_only_when_nothing_answers() -> None:
    def fails(message: str) -> int:
        raise ValueError(message)

    def late() -> int:
        time.sleep(0.05)
        return 3

    assert first_answer([lambda: fails("a"), late]) == 3
    with pytest.raises(ValueError, match="first"):
        first_answer([lambda: None, lambda: fails("first"), lambda: fails("second")])


def test_with_no_thread_to_be_had_the_calls_run_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refused)
    assert together([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]
    assert first_answer([lambda: None, lambda: "b"]) == "b"
    with pytest.raises(ValueError, match="first"):
        first_answer([_raises("first"), lambda: None])


def _raises(message: str) -> Callable[[], None]:
    def call() -> None:
        raise ValueError(message)

    return call
