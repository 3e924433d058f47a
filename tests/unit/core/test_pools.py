from __future__ import annotations

import threading

from kiln.core.pools import started_pool


def _named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_every_thread_of_a_started_pool_runs_before_any_work() -> None:
    pool = started_pool(3, "started-pool-test")
    try:
        assert len(_named("started-pool-test")) == 3
        results = [pool.submit(lambda n=n: n * 2) for n in range(10)]
        assert [r.result(timeout=5) for r in results] == [n * 2 for n in range(10)]
    finally:
        pool.shutdown(wait=True)
    assert _named("started-pool-test") == []
