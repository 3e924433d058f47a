"""A test seam: stop the process dead at a named point, to prove what an interruption leaves.

``KILN_TEST_KILL_AT=<point>[:<n>]`` makes the n-th arrival (the first when no ``n`` is given)
at ``reached("<point>")`` send SIGKILL to kiln's own process: no cleanup handler, ``finally``
block or buffered write runs, exactly as when a user's machine loses power or the OOM killer
strikes. Tests use it to check that the next run repairs whatever was left half done.

The variable is read once; when it is unset (every real run) a call costs one comparison.
The points are listed in docs/reliability.md.
"""

from __future__ import annotations

import os
import threading

_UNSET = ("", 0)
_target: tuple[str, int] | None = None
_count = 0
_lock = threading.Lock()


def _wanted() -> tuple[str, int]:
    global _target
    if _target is None:
        raw = os.environ.get("KILN_TEST_KILL_AT", "").strip()
        # Point names may hold a colon themselves (`write:pylock.toml`); a count is digits.
        point, _, n = raw.rpartition(":")
        if not (point and n.isdigit() and int(n) > 0):
            point, n = raw, "1"
        _target = (point, int(n)) if point else _UNSET
    return _target


def reached(point: str) -> None:
    """Mark that the process is at ``point``; kills it there when the test seam asks."""
    name, n = _target if _target is not None else _wanted()
    if name != point:
        return
    global _count
    with _lock:
        _count += 1
        hit = _count == n
    if hit:
        import signal  # only a test ever gets here

        kill = getattr(signal, "SIGKILL", None)
        if kill is None:  # pragma: no cover - Windows has no SIGKILL; no handler runs here either
            os._exit(137)
        os.kill(os.getpid(), kill)
