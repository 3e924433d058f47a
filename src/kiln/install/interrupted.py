"""How an install or uninstall that was cut short is recognised and finished by the next run.

While kiln changes a distribution, its ``.dist-info`` folder holds a marker file,
`INCOMPLETE`, listing (in RECORD's format) every path the change may have written. The
marker appears before the first file is linked and goes after the final RECORD is in place,
so a process killed anywhere in between leaves a distribution that says it is incomplete:
the next run reads it as installed-but-broken, removes whatever of it exists (RECORD and the
marker together name every such file) and installs it again.

Scratch folders kiln makes inside an environment carry the process id in their name, so the
next run removes those whose process is gone and leaves a running one's alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from kiln.cache.atomic import new_dir_mode, write_bytes
from kiln.core.kill_points import reached
from kiln.core.scratch import new_dir, remove_tree
from kiln.install.record import RecordEntry, format_record

INCOMPLETE = "KILN_INCOMPLETE"
_SCRATCH_PREFIXES = (".kiln-install-", ".kiln-uninstall-")


def scratch_dir(prefix: str, folder: str) -> str:
    """A new private folder in ``folder`` named ``<prefix><pid>-<random>``."""
    return new_dir(folder, prefix=f"{prefix}{os.getpid()}-")


def begin_install(meta_dir: Path, planned: Iterable[str]) -> None:
    """Make ``meta_dir`` (a ``.dist-info`` folder) exist, marked incomplete, in one step.

    A new folder is assembled under a scratch name and renamed into place, so it never
    exists without its marker.
    """
    listing = format_record(RecordEntry(path) for path in planned)
    if meta_dir.is_dir():
        write_bytes(meta_dir / INCOMPLETE, listing)
        return
    meta_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(scratch_dir(".kiln-install-", str(meta_dir.parent)))
    try:
        os.chmod(staging, new_dir_mode())
        write_bytes(staging / INCOMPLETE, listing)
        reached("install-staged")
        os.rename(staging, meta_dir)
    finally:
        if staging.exists():
            remove_tree(str(staging))


def mark_incomplete(meta_dir: Path) -> Path:
    """Mark an installed distribution as being changed (before an uninstall moves files)."""
    marker = meta_dir / INCOMPLETE
    if not marker.exists():
        write_bytes(marker, b"")
    return marker


def finish(meta_dir: Path) -> None:
    (meta_dir / INCOMPLETE).unlink(missing_ok=True)


def sweep_debris(folders: Iterable[Path]) -> None:
    """Remove scratch folders that processes no longer running left in ``folders``."""
    for folder in {str(f) for f in folders}:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            prefix = next((p for p in _SCRATCH_PREFIXES if name.startswith(p)), None)
            if prefix is None:
                continue
            pid = name[len(prefix) :].partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                remove_tree(os.path.join(folder, name))


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        return True  # Windows' os.kill would end the process it asks about
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    # A zombie (killed, not yet reaped by its parent) writes nothing more.
    with contextlib.suppress(OSError, IndexError), open(f"/proc/{pid}/stat", encoding="ascii") as f:
        if f.read().rpartition(")")[2].split()[0] == "Z":
            return False
    return True
