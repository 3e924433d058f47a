"""Each key computed once, even when threads ask for it at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TypeVar

V = TypeVar("V")


class Once:
    """A thread that asks for a key being computed waits for that computation instead of
    starting its own: a page fetched twice costs a request, a source built twice costs a
    build backend's run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Hashable, Future[object]] = {}

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
                # A failure is not remembered: the next caller may succeed (e.g. after retries).
                with self._lock:
                    self._futures.pop(key, None)
        return future.result()  # type: ignore[return-value]
