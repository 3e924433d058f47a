"""Which file of each version fits the target, and why the others do not.

Reasons are kept per version so that an unsatisfiable resolution can say, for example, that
torch 2.5.1 was rejected because no wheel fits CPython 3.13, listing the wheels that exist.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.environment import Target
from kiln.core.protocols import FindResult, Found
from kiln.core.records import field, record


@record
class VersionChoice:
    """The best usable file of one version for the target, or why there is none."""

    version: Version
    file: DistFile | None
    rejected: str | None = None
    yanked: bool = False
    # Rejected because every file's Requires-Python excludes the target's (lowest) Python.
    rejected_for_python: bool = False


@record(frozen=False)
class VersionTable:
    """All versions of one project as the target sees them, in the order to try them.

    The file choice per version is made on first use: a project on PyPI lists hundreds of
    versions with dozens of wheels each, and the solver usually needs the first few.
    """

    name: NormalizedName
    versions: list[Version] = field(default_factory=list)
    # Every version's files, made on first use (`core.releases`).
    files: Mapping[Version, Sequence[DistFile]] = field(default_factory=dict)
    target: Target | None = None
    # Whether an sdist-only version can be a candidate (its metadata comes from a build).
    builds: bool = False
    # The options that forbid this project's wheels / builds (`--no-binary a`), if any.
    no_binary: str | None = None
    no_build: str | None = None
    _made: dict[Version, VersionChoice] = field(default_factory=dict)

    def choice(self, version: Version) -> VersionChoice:
        made = self._made.get(version)
        if made is None:
            assert self.target is not None
            made = _choose_one(
                version,
                self.files[version],
                self.target,
                self.builds,
                no_binary=self.no_binary,
                no_build=self.no_build,
            )
            self._made[version] = made
        return made

    @property
    def choices(self) -> list[VersionChoice]:
        """Every version's choice, in order (explanations need them all)."""
        return [self.choice(v) for v in self.versions]

    def usable(self) -> Iterator[VersionChoice]:
        return (c for c in map(self.choice, self.versions) if c.file is not None)


def _platform_words(files: Iterable[DistFile]) -> str:
    # The ABI is named where it is one: `py3-graalpy240_310_native-any` must not read as
    # a universal wheel.
    tags = sorted(
        {
            f"{t.interpreter}-{t.platform}"
            if t.abi == "none"
            else f"{t.interpreter}-{t.abi}-{t.platform}"
            for f in files
            for t in f.wheel_tags
        }
    )
    if len(tags) > 6:
        tags = [*tags[:6], f"and {len(tags) - 6} more"]
    return ", ".join(tags)


def lower_bounds(spec: SpecifierSet) -> SpecifierSet:
    """``Requires-Python`` without its upper bounds, which uv ignores: packages put them there
    as guesses (``<4``, ``<=3.11``) far more often than as facts."""
    return SpecifierSet(",".join(str(s) for s in spec if s.operator not in ("<", "<=")))


@functools.lru_cache(maxsize=4096)
def _requires_python_ok(spec: str | None, python_full_version: str) -> bool:
    # Memoised: a project's hundreds of files share a handful of `requires-python` strings,
    # and parsing them was most of a warm resolution's time.
    if not spec:
        return True
    try:
        return lower_bounds(SpecifierSet(spec)).contains(python_full_version, prereleases=True)
    except InvalidSpecifier:
        return True  # an unparsable bound does not exclude, as pip does


def choose_files(
    name: NormalizedName,
    releases: Mapping[Version, Sequence[DistFile]],
    target: Target,
    *,
    priority: Sequence[str] = (),
    builds: bool = False,
    no_binary: str | None = None,
    no_build: str | None = None,
) -> VersionTable:
    """Order ``releases``' versions and pick, per version when asked, the best wheel for
    ``target``.

    Versions come newest first. With a ``priority`` (`Found.priority`, the unsafe-first-match
    strategy: index names in the order they are consulted), they come index by index instead,
    newest first within each, so the solver exhausts the first index that has a fitting
    version before it looks at a newer one elsewhere.

    Preference inside a version: a non-yanked file before a yanked one, then the best tag
    rank. A source distribution is chosen only where no wheel fits and ``builds`` says its
    metadata can be had by building it; otherwise it only shapes the rejection message.
    ``no_binary`` / ``no_build`` name the option that forbids this project's wheels / builds:
    then only an sdist / only a wheel can be chosen, and a version left without one says so.
    """
    order = sorted(releases, reverse=True)
    if priority:
        rank = {index: n for n, index in enumerate(priority)}
        unranked = len(rank)

        def index_rank(version: Version) -> int:
            return min(rank.get(f.index, unranked) for f in releases[version])

        # Stable: newest first within one index.
        order.sort(key=index_rank)
    return VersionTable(
        name, order, releases, target, builds, no_binary=no_binary, no_build=no_build
    )


def table_for(name: NormalizedName, found: FindResult, target: Target) -> VersionTable:
    """The version table of what a finder returned, in the order its strategy asks for."""
    if isinstance(found, Found):
        return choose_files(
            name, found.releases, target, priority=found.priority, builds=found.builds_sdists
        )
    return VersionTable(name)


def _choose_one(
    version: Version,
    files: Sequence[DistFile],
    target: Target,
    builds: bool = False,
    *,
    no_binary: str | None = None,
    no_build: str | None = None,
) -> VersionChoice:
    if no_binary is not None or no_build is not None:
        forbidden = _forbidden(version, files, target, builds, no_binary, no_build)
        if forbidden is not None:
            return forbidden
        builds = False  # `no_build` alone: a wheel as usual, never the sdist
    wheels = [f for f in files if f.is_wheel]
    python_ok = [
        f for f in wheels if _requires_python_ok(f.requires_python, target.python_full_version)
    ]
    ranked: list[tuple[bool, int, DistFile]] = []
    for file in python_ok:
        rank = target.wheel_rank(file.filename)
        if rank is not None:
            ranked.append((file.yanked is not None, rank, file))
    if ranked:
        ranked.sort(key=lambda item: (item[0], item[1]))
        yanked, _, best = ranked[0]
        return VersionChoice(version, best, yanked=yanked)
    sdists = [f for f in files if not f.is_wheel]
    if target.universal and python_ok and sdists and no_build is None:
        # A lock serves the region through the sdist where no wheel fits; the metadata is
        # read from a wheel, as every file of one version declares the same.
        best = min(python_ok, key=lambda f: (f.yanked is not None, f.filename))
        return VersionChoice(version, best, yanked=best.yanked is not None)
    buildable = [
        f for f in sdists if _requires_python_ok(f.requires_python, target.python_full_version)
    ]
    if builds and buildable:
        best = min(buildable, key=lambda f: (f.yanked is not None, f.filename))
        return VersionChoice(version, best, yanked=best.yanked is not None)

    if not wheels:
        if files and not any(
            _requires_python_ok(f.requires_python, target.python_full_version) for f in files
        ):
            spec = files[0].requires_python
            return VersionChoice(
                version,
                None,
                f"requires Python {spec}, but the target has {target.python_full_version}",
                rejected_for_python=True,
            )
        return VersionChoice(
            version,
            None,
            # Only build environments resolve without builds: one build never waits on another.
            "has only a source distribution, and what a build environment installs must be wheels",
        )
    if not python_ok:
        spec = wheels[0].requires_python
        return VersionChoice(
            version,
            None,
            f"requires Python {spec}, but the target has {target.python_full_version}",
            rejected_for_python=True,
        )
    return VersionChoice(
        version,
        None,
        f"has no wheel for {target.description} (wheels exist for {_platform_words(wheels)})",
    )


def _forbidden(
    version: Version,
    files: Sequence[DistFile],
    target: Target,
    builds: bool,
    no_binary: str | None,
    no_build: str | None,
) -> VersionChoice | None:
    """The choice where an option forbids wheels or builds, or None to choose as usual.

    Without wheels only a buildable sdist is left; without builds only a fitting wheel is
    (a lock's region is then not served through an sdist either).
    """
    python = target.python_full_version
    wheels = [f for f in files if f.is_wheel]
    sdists = [f for f in files if not f.is_wheel]
    if no_binary is not None:
        if no_build is not None:
            return VersionChoice(
                version,
                None,
                f"can be installed neither from a wheel ({no_binary}) nor from source ({no_build})",
            )
        buildable = [f for f in sdists if _requires_python_ok(f.requires_python, python)]
        if buildable and (builds or target.universal):
            best = min(buildable, key=lambda f: (f.yanked is not None, f.filename))
            return VersionChoice(version, best, yanked=best.yanked is not None)
        if sdists and not buildable:
            return VersionChoice(
                version,
                None,
                f"requires Python {sdists[0].requires_python}, but the target has {python}",
                rejected_for_python=True,
            )
        return VersionChoice(
            version, None, f"has no source distribution, and {no_binary} forbids its wheels"
        )
    if sdists and not wheels:
        return VersionChoice(
            version, None, f"has only a source distribution, and {no_build} forbids building it"
        )
    return None  # a wheel is chosen as usual, never the sdist
