"""Advisory file locks so concurrent kiln processes take turns on one entry or environment.

A process that finds the lock taken says so on stderr after a second, so a `kiln sync` that
waits for another one is not mistaken for a hung one.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

WAIT_NOTICE_AFTER = 1.0  # seconds a process waits quietly before it says what it waits for


def _say_waiting(path: Path) -> None:
    sys.stderr.write(f"waiting for another kiln process to release `{path}`\n")
    sys.stderr.flush()


@contextmanager
def file_lock(path: Path, *, waiting: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created when missing) for the ``with`` block.

    ``waiting`` is told once when the lock is still taken after `WAIT_NOTICE_AFTER`; by
    default it prints a line on stderr. Locks of one path do not nest within one process.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            notice = threading.Timer(WAIT_NOTICE_AFTER, waiting or _say_waiting, (path,))
            notice.daemon = True
            notice.start()
            try:
                _lock(fd)
            finally:
                notice.cancel()
        yield
    finally:
        os.close(fd)  # closing releases the lock on every platform


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        # LK_LOCK gives up after ten tries a second apart; a long install outlasts that.
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
