"""Carry out an install plan once every wheel is unpacked: remove, then install."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.core.dist import Candidate
from kiln.core.errors import InstallError
from kiln.core.kill_points import reached
from kiln.core.records import record
from kiln.install.installed import InstalledDist, installed_distributions
from kiln.install.installer import InstallOptions, check_unpacked, install_wheel
from kiln.install.interrupted import sweep_debris
from kiln.install.plan import InstallPlan, PlannedDist
from kiln.install.scheme import InstallScheme
from kiln.install.uninstall import Stashed, discard_planned, plan_uninstall, stash_planned

if TYPE_CHECKING:
    from packaging.utils import NormalizedName
    from packaging.version import Version


@record
class InstallReport:
    """What one install step installed and removed."""

    installed: tuple[Candidate, ...]
    removed: tuple[InstalledDist, ...]


def execute(
    plan: InstallPlan,
    unpacked: Mapping[NormalizedName, Path],
    scheme: InstallScheme,
    options: InstallOptions,
    *,
    requested: frozenset[NormalizedName],
    direct_urls: Mapping[NormalizedName, Mapping[str, object]] | None = None,
    jobs: int | None = None,
) -> InstallReport:
    """Uninstall what the plan replaces or drops, then install its wheels.

    ``direct_urls`` gives the PEP 610 record of projects installed from a URL or path.
    By default (`_default_jobs`) wheels are hard-linked from one thread, joined by one per
    spare core when creating files proves slow (`_install_paced`), and copied from one
    thread per core.
    """
    to_install = plan.to_install
    jobs = jobs or _default_jobs(options, unpacked, scheme)
    missing = [p.candidate.name for p in to_install if p.candidate.name not in unpacked]
    if missing:
        raise InstallError(
            f"`{missing[0]}` was not prepared before installing",
            hint="this is a bug in kiln; please report it",
        )
    for planned in to_install:
        check_unpacked(
            unpacked[planned.candidate.name], planned.candidate.name, str(planned.candidate)
        )
    # Scratch folders of a kiln process killed in this environment earlier.
    sweep_debris((scheme.purelib, scheme.platlib, scheme.scripts))
    removed: list[InstalledDist] = []
    stashed: list[Stashed] = []
    urls = direct_urls or {}

    def install(planned: PlannedDist, tally: list[int] | None = None) -> Candidate:
        name = planned.candidate.name
        try:
            install_wheel(
                unpacked[name],
                scheme,
                options,
                requested=name in requested,
                direct_url=urls.get(name),
                tally=tally,
            )
        except OSError as exc:
            # A full disk or a read-only folder.
            where = f": `{exc.filename}`" if exc.filename else ""
            raise InstallError(
                f"cannot install {planned.candidate}{where}",
                causes=[exc.strerror or str(exc)],
                hint="free space or fix the environment's permissions, then run the command again",
            ) from exc
        return planned.candidate

    # Largest wheels first, so that no worker is left with a big one at the end.
    order = sorted(to_install, key=lambda p: -(p.candidate.file.size or 0))
    try:
        for dist in plan.to_remove:
            stashed.append(stash_planned(plan_uninstall(dist, scheme), scheme))
            removed.append(dist)
        reached("execute-removed")
        if len(order) <= 1:
            done = {install(p) for p in order}
        elif jobs == 1:
            done = _install_paced(order, install, os.cpu_count() or 1)
        else:
            from concurrent.futures import ThreadPoolExecutor  # only copies need a pool

            with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="install") as pool:
                done = set(pool.map(install, order))
    except BaseException as exc:
        undone = _undo(
            {(p.candidate.name, p.candidate.version) for p in to_install}, stashed, scheme
        )
        if isinstance(exc, InstallError):
            if undone:
                exc.hint = (f"{exc.hint}; " if exc.hint else "") + (
                    "the environment was left as it was before this command"
                )
            elif isinstance(exc.__cause__, OSError):
                # What was half made is marked incomplete (`interrupted`): the next sync
                # puts it right once the cause is gone.
                exc.hint = f"{exc.hint}; it completes the install"
        raise
    for stash in stashed:
        stash.commit()
    installed = [p.candidate for p in to_install if p.candidate in done]
    return InstallReport(installed=tuple(installed), removed=tuple(removed))


# Past this many seconds per file or folder created, the kernel is the cost, not the GIL:
# on tmpfs and a quiet ext4 an install takes 5-10 us per entry, on an ext4 where a tree was
# just deleted 30-110 us, and there a second thread halved the install step (1.06 s against
# 0.57 s for the 42-package set; on tmpfs one thread took 87 ms against 112 ms for two).
_SLOW_ENTRY_S = 20e-6
_PACE_AFTER = 500  # entries made before the pace is trusted


def _install_paced(
    order: Sequence[PlannedDist], install: Callable[[PlannedDist, list[int]], Candidate], cores: int
) -> set[Candidate]:
    """Install ``order`` from this thread, and from one more thread per spare core once the
    wheels installed so far show that creating files, not Python, is what takes the time."""
    queue = deque(order)
    done: set[Candidate] = set()
    failed: list[BaseException] = []
    lock = threading.Lock()

    def take() -> PlannedDist | None:
        with lock:
            return queue.popleft() if queue and not failed else None

    def drain(tally: list[int]) -> None:
        try:
            while (planned := take()) is not None:
                done.add(install(planned, tally))
        except BaseException as exc:
            with lock:
                failed.append(exc)

    helpers: list[threading.Thread] = []
    tally: list[int] = []
    started = time.perf_counter()
    try:
        while (planned := take()) is not None:
            done.add(install(planned, tally))
            made = sum(tally)
            slow = made >= _PACE_AFTER and time.perf_counter() - started > made * _SLOW_ENTRY_S
            if not helpers and slow and len(queue) > 1:
                for i in range(cores - 1):
                    helper = threading.Thread(target=drain, args=([],), name=f"install-{i}")
                    helper.start()
                    helpers.append(helper)
    except BaseException as exc:
        with lock:
            failed.insert(0, exc)
    for helper in helpers:
        helper.join()
    if failed:
        raise failed[0]
    return done


def _undo(
    new: set[tuple[NormalizedName, Version]], stashed: Sequence[Stashed], scheme: InstallScheme
) -> bool:
    """Take out what this step installed, whole or in part, and put back what it removed.
    False when some of it could not be done: then marks left in the environment make the
    next run finish the job (`interrupted`)."""
    try:
        for dist in installed_distributions([scheme.purelib, scheme.platlib]):
            if (dist.name, dist.version) in new:
                discard_planned(plan_uninstall(dist, scheme), scheme)
        for stash in reversed(stashed):
            stash.restore()
    except (OSError, InstallError):
        return False
    return True


def _default_jobs(
    options: InstallOptions, unpacked: Mapping[NormalizedName, Path], scheme: InstallScheme
) -> int:
    """How many wheels install at once. Linking a file is one short system call, and each
    gives the GIL up: two threads linking the 42-package set on two cores spent their time
    handing it to each other (the install step took 122-164 ms against 75-85 ms on one
    thread on tmpfs, and 160-190 against 100-110 ms on ext4). A copy reads and writes whole
    files with the GIL released, and gets one thread per core."""
    cores = os.cpu_count() or 1
    if options.link_mode != "hardlink" or not unpacked:
        return cores
    source = _device(next(iter(unpacked.values())))
    return 1 if source is not None and source == _device(scheme.purelib) else cores


def _device(path: Path) -> int | None:
    """The file system ``path`` is on, or the nearest folder above it that exists."""
    for folder in (path, *path.parents):
        try:
            return os.stat(folder).st_dev
        except OSError:
            continue
    return None
