"""Private scratch files and folders, and removing a scratch tree.

`tempfile` and `shutil` are what the standard library offers, but importing them costs a
sync replayed from its record (`commands/project/switch.py`) about 4.5 ms of its ~50
(`tempfile` brings `random`, `shutil` the compression modules), and every install writes
scratch files. These do the same with `os` alone: names made unique by `O_EXCL`/`mkdir`
retried with random suffixes, modes 0600 and 0700 as `mkstemp`/`mkdtemp` give.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

_ATTEMPTS = 100
_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _names(folder: str, prefix: str, suffix: str) -> Iterator[str]:
    # One at a time: nearly always the first is free, and each costs a getrandom call.
    for _ in range(_ATTEMPTS):
        yield os.path.join(folder, f"{prefix}{os.urandom(6).hex()}{suffix}")


def new_file(folder: str, prefix: str = "", suffix: str = "") -> tuple[int, str]:
    """A new file in ``folder``, readable and writable by its owner only: its open
    descriptor and path."""
    for path in _names(folder, prefix, suffix):
        try:
            return os.open(path, _FILE_FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused scratch file name in {folder}")


def new_dir(folder: str, prefix: str = "") -> str:
    """A new folder in ``folder``, usable by its owner only."""
    for path in _names(folder, prefix, ""):
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused scratch folder name in {folder}")


def remove_tree(path: str) -> None:
    """Remove ``path`` and all below it as far as possible, never following a symbolic
    link out of it; errors are ignored (``shutil.rmtree(path, ignore_errors=True)``)."""
    try:
        if os.path.islink(path) or not os.path.isdir(path):
            os.unlink(path)
            return
    except OSError:
        return
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            _quietly(os.unlink, os.path.join(root, name))
        for name in dirs:
            inner = os.path.join(root, name)
            # os.walk lists a link to a folder among the folders and does not enter it.
            _quietly(os.unlink if os.path.islink(inner) else os.rmdir, inner)
    _quietly(os.rmdir, path)


def _quietly(remove: Callable[[str], None], path: str) -> None:
    with contextlib.suppress(OSError):
        remove(path)
