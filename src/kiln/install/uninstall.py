"""Remove an installed distribution: exactly the files its RECORD lists.

Files are first moved aside into stash folders on the same file system; only when every
file has moved are the stashes deleted (`Stashed.commit`; the executor commits once every
wheel of its step is installed, and restores otherwise). A failure midway moves everything
back, so an environment never keeps half a package. Against a kill, which no rollback
survives, the distribution is marked incomplete before the first move and its RECORD and
the mark move last: whatever a killed uninstall leaves is still a distribution the next run
finishes removing (see `interrupted`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

from kiln.core.errors import InstallError
from kiln.core.kill_points import reached
from kiln.core.records import record
from kiln.core.scratch import remove_tree
from kiln.install.installed import InstalledDist
from kiln.install.interrupted import INCOMPLETE, mark_incomplete, scratch_dir
from kiln.install.record import read_record
from kiln.install.scheme import InstallScheme, scheme_prefix


@record
class UninstallPlan:
    """The files and folders removing one distribution touches."""

    dist: InstalledDist
    remove: tuple[Path, ...]  # files to delete (those that exist), dist-info included
    # Listed in RECORD but outside the environment: left alone. Commands warn about them.
    refused: tuple[Path, ...]
    # The folders of every listed path inside the environment, present or not: a run that
    # finishes an interrupted uninstall prunes those its predecessor emptied.
    folders: tuple[str, ...] = ()


def plan_uninstall(dist: InstalledDist, scheme: InstallScheme) -> UninstallPlan:
    record_path = dist.dist_info / "RECORD"
    # An interrupted install lists what it may have written in its mark instead.
    listings = [p for p in (record_path, dist.dist_info / INCOMPLETE) if p.is_file()]
    if not dist.dist_info.is_dir() or not listings:
        raise InstallError(
            f"cannot uninstall {dist}: it has no RECORD",
            causes=[f"`{dist.dist_info}` lists no installed files"],
            hint="it was installed by a tool that wrote no RECORD; remove it with that tool",
        )
    try:
        entries = [entry for listing in listings for entry in read_record(listing)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(
            f"cannot uninstall {dist}: its RECORD cannot be read", causes=[str(exc)]
        ) from exc
    inside = str(scheme_prefix(scheme)) + os.sep
    site = str(dist.site_dir)
    real_dirs: dict[str, str] = {}
    bytecode = _BytecodeIndex()
    remove: dict[str, Path] = {}
    refused: list[Path] = []
    folders: set[str] = set()

    def consider(path: str) -> None:
        # The folder is resolved, the name is not: a listed symlink is removed, not its target.
        folder, name = os.path.split(path)
        real_dir = real_dirs.get(folder)
        if real_dir is None:
            real_dir = real_dirs[folder] = os.path.realpath(folder)
        real = os.path.join(real_dir, name)
        if not real.startswith(inside):
            refused.append(Path(path))
            return
        folders.add(real_dir)
        if real not in remove and os.path.lexists(real):
            remove[real] = Path(real)

    for entry in entries:
        path = os.path.normpath(os.path.join(site, entry.path))
        consider(path)
        if path.endswith(".py"):
            for pyc in bytecode.of(path):
                consider(pyc)
    for root, _dirs, files in os.walk(dist.dist_info):
        for name in files:
            consider(os.path.join(root, name))
    return UninstallPlan(dist, tuple(remove.values()), tuple(refused), tuple(sorted(folders)))


def uninstall(dist: InstalledDist, scheme: InstallScheme) -> tuple[Path, ...]:
    """Remove ``dist``; returns the files removed. See `plan_uninstall` for what is refused."""
    return remove_planned(plan_uninstall(dist, scheme), scheme)


def remove_planned(plan: UninstallPlan, scheme: InstallScheme) -> tuple[Path, ...]:
    return stash_planned(plan, scheme).commit()


class Stashed:
    """A distribution whose files, RECORD and mark last, are moved into stash folders:
    gone from the environment, not yet deleted. `commit` deletes them; `restore` puts the
    distribution back as it was, so an install step that fails after its uninstalls can
    leave the environment as it found it."""

    def __init__(
        self,
        plan: UninstallPlan,
        stashes: _Stashes,
        moved: list[tuple[str, str]],
        marker: Path | None,
    ) -> None:
        self.plan = plan
        self._stashes = stashes
        self._moved = moved
        self._marker = marker

    def commit(self) -> tuple[Path, ...]:
        self._stashes.delete()
        reached("uninstall-stashes-deleted")
        return self.plan.remove

    def restore(self) -> None:
        """Move every file back; raises OSError when one cannot be (the stash is kept then,
        and the mark left behind makes the next run finish removing the distribution)."""
        while self._moved:
            original, aside = self._moved[-1]
            os.makedirs(os.path.dirname(original), exist_ok=True)
            os.rename(aside, original)
            self._moved.pop()
        if self._marker is not None:
            with contextlib.suppress(FileNotFoundError):
                self._marker.unlink()
        self._stashes.delete()


def stash_planned(plan: UninstallPlan, scheme: InstallScheme) -> Stashed:
    """Move ``plan``'s files into stashes (see `Stashed`); a failure midway moves them back
    and raises InstallError."""
    stashes = _Stashes((str(plan.dist.site_dir), str(scheme.scripts)))
    dist_info, listings, others = _parts(plan)
    moved: list[tuple[str, str]] = []
    marker: Path | None = None

    def move(path: str) -> None:
        aside = os.path.join(stashes.on_device_of(os.path.dirname(path)), str(len(moved)))
        os.rename(path, aside)
        moved.append((path, aside))

    try:
        if plan.dist.dist_info.is_dir() and not (plan.dist.dist_info / INCOMPLETE).exists():
            marker = mark_incomplete(plan.dist.dist_info)
        reached("uninstall-marked")
        for path in others:
            move(path)
            reached("uninstall-move")
        reached("uninstall-moved")
        # Emptied folders go before the listings: a kill from here on must leave none that
        # no listing names. `restore` makes them again.
        _prune_folders_of(others, dist_info, plan, scheme)
        for listing in listings:
            if os.path.lexists(listing):
                move(listing)
                reached("uninstall-listing-removed")
    except OSError as exc:
        for original, aside in reversed(moved):
            with contextlib.suppress(OSError):
                os.makedirs(os.path.dirname(original), exist_ok=True)
                os.rename(aside, original)
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()
        stashes.delete()
        raise InstallError(
            f"cannot uninstall {plan.dist}: `{exc.filename}` cannot be removed",
            causes=[exc.strerror or str(exc)],
            hint="check the permissions of the environment; nothing was removed",
        ) from exc
    # The `.dist-info` folder goes now, not at `commit`: no empty one is left to look like a
    # distribution, and a new install of the same name and version makes it afresh.
    _prune_empty_dirs({dist_info}, plan, scheme)
    return Stashed(plan, stashes, moved, marker)


def discard_planned(plan: UninstallPlan, scheme: InstallScheme) -> None:
    """Delete ``plan``'s files where they are, RECORD and the mark last: how a failed step
    takes back what it installed. No stash folder is made, so this works on the full disk
    that may have failed the step, and frees space before anything is moved back."""
    dist_info, listings, others = _parts(plan)
    if plan.dist.dist_info.is_dir() and not (plan.dist.dist_info / INCOMPLETE).exists():
        # Best effort: a kill from here on should find the distribution incomplete, but a
        # full disk may have no room for the mark, and the deletions must go on without it.
        with contextlib.suppress(OSError):
            mark_incomplete(plan.dist.dist_info)
    for path in others:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    _prune_folders_of(others, dist_info, plan, scheme)
    for listing in listings:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(listing)
    _prune_empty_dirs({dist_info}, plan, scheme)


def _parts(plan: UninstallPlan) -> tuple[str, list[str], list[str]]:
    """The resolved `.dist-info` folder, its listings (RECORD, then the mark) and every
    other file. The listings go last, after everything they list: until then, whatever a
    kill leaves is still a distribution that says what remains of it."""
    dist_info = os.path.realpath(plan.dist.dist_info)
    listings = [os.path.join(dist_info, n) for n in ("RECORD", INCOMPLETE)]
    return dist_info, listings, [str(p) for p in plan.remove if str(p) not in listings]


def _prune_folders_of(
    files: list[str], dist_info: str, plan: UninstallPlan, scheme: InstallScheme
) -> None:
    folders = {os.path.dirname(path) for path in files} | set(plan.folders)
    _prune_empty_dirs(folders - {dist_info}, plan, scheme)


class _BytecodeIndex:
    """The .pyc files of removed modules, listing each ``__pycache__`` folder once."""

    # foo.cpython-312.pyc, foo.cpython-312.opt-1.pyc, foo.pypy310.pyc
    _PYC = re.compile(r"^(?P<stem>[^.]+)\.[^.]+(?:\.opt-\d+)?\.pyc$")

    def __init__(self) -> None:
        self._folders: dict[str, dict[str, list[str]]] = {}

    def of(self, source: str) -> list[str]:
        folder, name = os.path.split(source)
        cache = os.path.join(folder, "__pycache__")
        by_stem = self._folders.get(cache)
        if by_stem is None:
            by_stem = self._folders[cache] = {}
            try:
                names = os.listdir(cache)
            except OSError:
                names = []
            for pyc in names:
                match = self._PYC.match(pyc)
                if match:
                    by_stem.setdefault(match["stem"], []).append(os.path.join(cache, pyc))
        return by_stem.get(name[: -len(".py")], [])


class _Stashes:
    """Folders to move files into, one per file system, so every move is a rename.

    A stash goes in the first of ``preferred`` (the site folder, the scripts folder) on the
    file's file system, else beside the file.
    """

    def __init__(self, preferred: Sequence[str]) -> None:
        self._preferred = preferred
        self._device_of: dict[str, int] = {}
        self._stashes: dict[int, str] = {}

    def on_device_of(self, folder: str) -> str:
        device = self._device_of.get(folder)
        if device is None:
            device = self._device_of[folder] = os.lstat(folder).st_dev
        stash = self._stashes.get(device)
        if stash is None:
            home = folder
            for candidate in self._preferred:
                with contextlib.suppress(OSError):
                    if os.stat(candidate).st_dev == device:
                        home = candidate
                        break
            stash = self._stashes[device] = scratch_dir(".kiln-uninstall-", home)
        return stash

    def delete(self) -> None:
        for stash in self._stashes.values():
            remove_tree(stash)


def _prune_empty_dirs(folders: set[str], plan: UninstallPlan, scheme: InstallScheme) -> None:
    # `scheme_prefix` is made of resolved paths: the prefix needs no resolving again.
    prefix = str(scheme_prefix(scheme))
    keep = _kept_folders(
        *(str(p) for p in (scheme.purelib, scheme.platlib, scheme.scripts, scheme.data)),
        str(scheme.include),
        str(plan.dist.site_dir),
    )
    parents = sorted(folders, key=len, reverse=True)
    for parent in parents:
        current = parent
        while current.startswith(prefix + os.sep) and current not in keep:
            try:
                os.rmdir(current)
            except OSError:
                break  # not empty (another package's files) or gone
            current = os.path.dirname(current)


@functools.lru_cache(maxsize=16)
def _kept_folders(*folders: str) -> frozenset[str]:
    """The environment's own folders, resolved: pruning stops there. Asked twice per
    distribution removed; the folders do not move while kiln changes the environment."""
    return frozenset(os.path.realpath(p) for p in folders)
