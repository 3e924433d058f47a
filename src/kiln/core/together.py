"""Run a few blocking calls at once: requests whose answers are all needed before going on
(`together`), or ways of getting one thing of which the first to answer is taken
(`first_answer`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def together(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Each call's result, in order. The first runs on this thread, the others on threads of
    their own; all have finished when this returns. The first failure, in the calls' order,
    is raised once every call is done."""
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # handed to the caller below
            errors[i] = exc

    started = [
        thread
        for i in range(1, len(calls))
        if _started(thread := threading.Thread(target=run, args=(i,), daemon=True), run, i)
    ]
    run(0)
    for thread in started:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]  # every slot was filled: no error was left


def first_answer(calls: Sequence[Callable[[], T | None]]) -> T | None:
    """The first result that is not None, as soon as any call gives one: for ways of getting
    the same thing whose speed is not known beforehand. Every call runs on a thread of its
    own; those still running when an answer comes go on, and what they give is dropped.
    When no call answers, the first failure in the calls' order is raised, else None."""
    done = threading.Condition()
    answers: list[T] = []
    errors: list[BaseException | None] = [None] * len(calls)
    finished = [0]

    def run(i: int) -> None:
        result: T | None = None
        try:
            result = calls[i]()
        except BaseException as exc:  # handed to the caller when nothing answers
            errors[i] = exc
        with done:
            finished[0] += 1
            if result is not None:
                answers.append(result)
            done.notify_all()

    for i in range(len(calls)):
        _started(threading.Thread(target=run, args=(i,), daemon=True), run, i)
    with done:
        done.wait_for(lambda: bool(answers) or finished[0] == len(calls))
        if answers:
            return answers[0]
    for error in errors:
        if error is not None:
            raise error
    return None


def _started(thread: threading.Thread, run: Callable[[int], None], i: int) -> bool:
    """Start ``thread``; when no thread can be had (``can't start new thread``), make the
    call here instead, so that it still runs and reports as the others do."""
    try:
        thread.start()
    except RuntimeError:
        run(i)
        return False
    return True
