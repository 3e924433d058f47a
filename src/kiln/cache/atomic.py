"""Atomic writes: readers see the old content or the whole new content, never a part.

Temporary files and folders are created private (0600, 0700) and a rename keeps that mode,
so each write sets the mode the result should have, as uv does: a rewrite keeps the mode of
the file it replaces; anything new gets what the umask allows.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from kiln.core.kill_points import reached
from kiln.core.scratch import new_dir, new_file, remove_tree


@functools.cache
def umask() -> int:
    """The process umask, read once.

    ``os.umask`` can only be read by setting it, and for that instant another thread's new
    files would get the wrong mode; Linux reports it in ``/proc/self/status`` instead.
    """
    # Read as bytes: a text file would first look its codec up.
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"Umask:"):
                return int(line.split(b":", 1)[1].strip(), 8)
    old = os.umask(0o022)
    os.umask(old)
    return old


def new_file_mode(*, executable: bool = False) -> int:
    """The mode ``open()`` would give a new file (or script) under the umask."""
    return (0o777 if executable else 0o666) & ~umask()


def new_dir_mode() -> int:
    return 0o777 & ~umask()


def write_bytes(path: Path, data: bytes, *, executable: bool = False) -> None:
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = new_file_mode(executable=executable)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = new_file(str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        # Told of the file being written: the scratch name beside it means nothing to anyone.
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            else:  # pragma: no cover - Windows has no fchmod, and no modes worth keeping
                os.chmod(tmp, mode)
            f.write(data)
        reached(f"write:{path.name}")
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename == tmp:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def write_text(path: Path, text: str, *, executable: bool = False) -> None:
    write_bytes(path, text.encode("utf-8"), executable=executable)


@contextlib.contextmanager
def staged_dir(final: Path, scratch: Path) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it becomes ``final`` in one rename.

    When another process finished the same entry first, its copy wins and ours is discarded:
    entries are content-addressed, so both are the same.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = Path(new_dir(str(scratch), prefix=f"{final.name}."))
    try:
        os.chmod(tmp, new_dir_mode())
        yield tmp
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            remove_tree(str(tmp))
