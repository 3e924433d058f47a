"""Remove an installed distribution: exactly the files its RECORD lists.

Files are first moved aside into stash folders on the same file system; only when every
file has moved are the stashes deleted. A failure midway moves everything back, so an
environment never keeps half a package.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiln.core.errors import InstallError
from kiln.install.installed import InstalledDist
from kiln.install.record import read_record
from kiln.install.scheme import InstallScheme, scheme_prefix


@dataclass(frozen=True)
class UninstallPlan:
    dist: InstalledDist
    remove: tuple[Path, ...]  # files to delete (those that exist), dist-info included
    # Listed in RECORD but outside the environment: left alone. Commands warn about them.
    refused: tuple[Path, ...]


def plan_uninstall(dist: InstalledDist, scheme: InstallScheme) -> UninstallPlan:
    record_path = dist.dist_info / "RECORD"
    if not dist.dist_info.is_dir() or not record_path.is_file():
        raise InstallError(
            f"cannot uninstall {dist}: it has no RECORD",
            causes=[f"`{dist.dist_info}` lists no installed files"],
            hint="it was installed by a tool that wrote no RECORD; remove it with that tool",
        )
    try:
        entries = read_record(record_path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(
            f"cannot uninstall {dist}: its RECORD cannot be read", causes=[str(exc)]
        ) from exc
    prefix = os.path.realpath(scheme_prefix(scheme))
    site = dist.site_dir
    remove: dict[str, Path] = {}
    refused: list[Path] = []

    def consider(path: Path) -> None:
        # The folder is resolved, the name is not: a listed symlink is removed, not its target.
        real = os.path.join(os.path.realpath(path.parent), path.name)
        if not (real == prefix or real.startswith(prefix + os.sep)):
            refused.append(path)
        elif os.path.lexists(real):
            remove.setdefault(real, Path(real))

    for entry in entries:
        path = Path(os.path.normpath(site.joinpath(*entry.path.split("/"))))
        consider(path)
        if path.suffix == ".py":
            for pyc in _bytecode_of(path):
                consider(pyc)
    for root, _dirs, files in os.walk(dist.dist_info):
        for name in files:
            consider(Path(root) / name)
    return UninstallPlan(dist, tuple(remove.values()), tuple(refused))


def uninstall(dist: InstalledDist, scheme: InstallScheme) -> tuple[Path, ...]:
    """Remove ``dist``; returns the files removed. See `plan_uninstall` for what is refused."""
    return remove_planned(plan_uninstall(dist, scheme), scheme)


def remove_planned(plan: UninstallPlan, scheme: InstallScheme) -> tuple[Path, ...]:
    stashes: dict[int, Path] = {}
    moved: list[tuple[Path, Path]] = []
    try:
        for i, path in enumerate(plan.remove):
            stash = _stash_for(path, stashes, (plan.dist.site_dir, Path(scheme.scripts)))
            aside = stash / str(i)
            os.rename(path, aside)
            moved.append((path, aside))
    except OSError as exc:
        for original, aside in reversed(moved):
            with contextlib.suppress(OSError):
                original.parent.mkdir(parents=True, exist_ok=True)
                os.rename(aside, original)
        _delete(stashes.values())
        raise InstallError(
            f"cannot uninstall {plan.dist}: `{exc.filename}` cannot be removed",
            causes=[exc.strerror or str(exc)],
            hint="check the permissions of the environment; nothing was removed",
        ) from exc
    _delete(stashes.values())
    _prune_empty_dirs(plan, scheme)
    return plan.remove


def _bytecode_of(source: Path) -> list[Path]:
    cache = source.parent / "__pycache__"
    try:
        names = os.listdir(cache)
    except OSError:
        return []
    # foo.cpython-312.pyc, foo.cpython-312.opt-1.pyc, foo.pypy310.pyc
    pattern = re.compile(re.escape(source.stem) + r"\.[^.]+(\.opt-\d+)?\.pyc$")
    return [cache / n for n in names if pattern.match(n)]


def _stash_for(path: Path, stashes: dict[int, Path], preferred: Sequence[Path]) -> Path:
    """A stash folder on the file system of ``path``, so moving into it is a rename.

    It goes in the first of ``preferred`` (the site folder, the scripts folder) on that file
    system, else beside the file.
    """
    device = os.lstat(path.parent).st_dev
    stash = stashes.get(device)
    if stash is None:
        home = path.parent
        for folder in preferred:
            with contextlib.suppress(OSError):
                if os.stat(folder).st_dev == device:
                    home = folder
                    break
        stash = Path(tempfile.mkdtemp(prefix=".kiln-uninstall-", dir=home))
        stashes[device] = stash
    return stash


def _delete(stashes: Iterable[Path]) -> None:
    for stash in stashes:
        shutil.rmtree(stash, ignore_errors=True)


def _prune_empty_dirs(plan: UninstallPlan, scheme: InstallScheme) -> None:
    prefix = os.path.realpath(scheme_prefix(scheme))
    keep = {
        os.path.realpath(p)
        for p in (
            scheme.purelib,
            scheme.platlib,
            scheme.scripts,
            scheme.data,
            scheme.include,
            plan.dist.site_dir,
        )
    }
    parents = sorted({str(p.parent) for p in plan.remove}, key=len, reverse=True)
    for parent in parents:
        current = parent
        while current.startswith(prefix + os.sep) and current not in keep:
            try:
                os.rmdir(current)
            except OSError:
                break  # not empty (another package's files) or gone
            current = os.path.dirname(current)
