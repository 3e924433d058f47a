"""The lock a process holds while it creates or changes a virtual environment.

Apart from `venv` so that a sync answered from its record (`commands/project/switch.py`)
takes the same lock without importing what creating an environment needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiln.cache.locks import file_lock
from kiln.core.errors import KilnError

__all__ = ["LOCK_NAME", "holds_foreign", "is_pyvenv_cfg_temp", "venv_lock"]

# The lock file processes that change the environment take turns on (uv's name for it). It is
# never deleted: a process opening a new file of that name would lock another inode.
LOCK_NAME = ".lock"


@contextmanager
def venv_lock(path: Path) -> Iterator[None]:
    """Held while one process creates or changes the environment at ``path``.

    The folder is made first so the lock can live inside it; a folder holding only the lock
    counts as empty for `create_venv`. Something at ``path`` that is not a folder is left for
    `create_venv` to refuse with its own message.
    """
    root = Path(os.path.abspath(path))
    if (root.is_symlink() and not root.exists()) or (root.exists() and not root.is_dir()):
        yield
        return
    if root.is_dir() and not (root / "pyvenv.cfg").is_file() and holds_foreign(root):
        yield  # a folder of the user's: no lock file is left in it; `create_venv` refuses it
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KilnError(
            f"cannot create `{root}`",
            causes=[exc.strerror or str(exc)],
            hint="check the permissions of the folder that holds it",
        ) from None
    with file_lock(root / LOCK_NAME):
        yield


def holds_foreign(root: Path) -> bool:
    """Whether ``root`` holds anything but kiln's lock and a cut-short `pyvenv.cfg` write."""
    return any(
        entry.name != LOCK_NAME and not is_pyvenv_cfg_temp(entry.name) for entry in root.iterdir()
    )


def is_pyvenv_cfg_temp(name: str) -> bool:
    # The temporary name `cache.atomic.write_text` gives it; `write_text` replaces it later.
    return name.startswith(".pyvenv.cfg.") and name.endswith(".tmp")
