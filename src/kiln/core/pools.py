"""Thread pools whose threads are running before the work arrives."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

# Long enough for any start; only a thread that could not be started leaves the others
# waiting this long, and then they give up.
_GATE_TIMEOUT_S = 5.0


def started_pool(workers: int, prefix: str) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads, all started now.

    `ThreadPoolExecutor` starts a thread on a submit that finds none idle, and the start
    waits until the new thread holds the GIL: 2-4 ms each once other threads are reading
    pages, so that a small lock spent tens of milliseconds starting threads mid-solve.
    Each thread here waits at a gate until all have arrived, so none is idle before the
    last is started.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix)
    gate = threading.Barrier(workers, timeout=_GATE_TIMEOUT_S)
    for _ in range(workers):
        pool.submit(gate.wait)
    return pool
