"""What an install will do, decided before anything is fetched or touched.

The plan is plain data: `--dry-run` prints it, tests read it, the preparer and the executor
carry it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.cache.layout import Cache
from kiln.core.dist import Candidate
from kiln.core.names import canonical_name
from kiln.core.records import record
from kiln.install.installed import InstalledDist

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

DEFAULT_KEEP: frozenset[NormalizedName] = frozenset(
    canonical_name(n) for n in ("pip", "setuptools", "wheel")
)


@record
class PlannedDist:
    """One wheel to install, and its unpacked folder when the cache has it."""

    candidate: Candidate
    cached: Path | None  # the unpacked cache folder when the wheel is already there


@record
class InstallPlan:
    """What an install changes: what to link, fetch, replace and remove."""

    cached: tuple[PlannedDist, ...]  # to install, already unpacked in the cache
    remote: tuple[PlannedDist, ...]  # to download first
    reinstalls: tuple[InstalledDist, ...]  # installed at another version (or forced): remove first
    extraneous: tuple[InstalledDist, ...]  # installed but not wanted (exact syncs only)
    unchanged: tuple[InstalledDist, ...]

    @property
    def to_install(self) -> tuple[PlannedDist, ...]:
        return (*self.cached, *self.remote)

    @property
    def to_remove(self) -> tuple[InstalledDist, ...]:
        return (*self.reinstalls, *self.extraneous)

    @property
    def is_empty(self) -> bool:
        return not (self.cached or self.remote or self.reinstalls or self.extraneous)


def plan_install(
    wanted: Sequence[Candidate],
    installed: Sequence[InstalledDist],
    cache: Cache,
    *,
    reinstall: bool = False,
    exact: bool = False,
    keep: frozenset[NormalizedName] = DEFAULT_KEEP,
) -> InstallPlan:
    """Compare what is wanted with what is installed.

    An installed distribution stays when its name and version match and, if it came from a
    direct URL, that URL is the candidate's. With ``exact`` (sync), distributions nobody
    wants are removed, except those in ``keep``.
    """
    by_name: dict[NormalizedName, InstalledDist] = {}
    for dist in installed:
        by_name.setdefault(dist.name, dist)
    cached: list[PlannedDist] = []
    remote: list[PlannedDist] = []
    reinstalls: list[InstalledDist] = []
    unchanged: list[InstalledDist] = []
    seen: set[NormalizedName] = set()
    for candidate in wanted:
        if candidate.name in seen:
            continue  # the same project again with other extras: one install
        seen.add(candidate.name)
        current = by_name.get(candidate.name)
        if current is not None:
            if not reinstall and _satisfies(current, candidate):
                unchanged.append(current)
                continue
            reinstalls.append(current)
        sha256 = candidate.file.hashes.get("sha256")
        folder = cache.unpacked_wheel(sha256) if sha256 else None
        (cached if folder is not None else remote).append(PlannedDist(candidate, folder))
    extraneous: list[InstalledDist] = []
    if exact:
        extraneous = [d for d in by_name.values() if d.name not in seen and d.name not in keep]
    return InstallPlan(
        cached=tuple(cached),
        remote=tuple(remote),
        reinstalls=tuple(reinstalls),
        extraneous=tuple(extraneous),
        unchanged=tuple(unchanged),
    )


def _satisfies(dist: InstalledDist, candidate: Candidate) -> bool:
    if dist.incomplete or dist.version != candidate.version:
        return False
    if dist.direct_url is None:
        return True
    return _strip_fragment(dist.url or "") == _strip_fragment(candidate.file.url)


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]
