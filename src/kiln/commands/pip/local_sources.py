"""`kiln pip install` of what is not on an index: `./lib`, `-e ./lib`, an sdist file, a git
URL, or `name @ <git, sdist or folder URL>`. Each is fetched once, named by its metadata,
resolved as that name's only candidate, and built before anything is installed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import UsageError
from kiln.core.records import field, record

if TYPE_CHECKING:
    # What a local source needs (fetching, building, the lock's entry types) is imported
    # only when the command names one: an install from an index never loads it.
    from kiln.commands.context import CommandContext
    from kiln.commands.source_dists import DirectDist
    from kiln.core.dist import Candidate, DistFile
    from kiln.core.metadata import CoreMetadata
    from kiln.core.protocols import PackageFinder
    from kiln.index.finder import IndexFinder
    from kiln.install.installed import InstalledDist
    from kiln.project.requirements_txt import LocalRequirement
    from kiln.project.source_rules import SourceOrigin
    from kiln.project.uv_tables import Source
    from kiln.python.interpreter import Interpreter
    from kiln.settings.build_settings import BuildSettings

DirectUrls = Mapping[NormalizedName, Mapping[str, object]]


@record(frozen=False)
class LocalSources:
    """The requirements, local and URL ones by name, and the distributions read from those."""

    requirements: list[Requirement]  # what the resolver is given, local ones by name
    dists: dict[NormalizedName, DirectDist] = field(default_factory=dict)

    def wrap(self, finder: PackageFinder) -> PackageFinder:
        if not self.dists:
            return finder
        from kiln.index.direct import DirectFinder

        return DirectFinder(finder, self._lookup)

    def _lookup(self, name: NormalizedName) -> tuple[DistFile, CoreMetadata] | None:
        dist = self.dists.get(name)
        return None if dist is None else (dist.file, dist.metadata)

    def installs(
        self,
        ctx: CommandContext,
        chosen: Sequence[Candidate],
        interpreter: Interpreter,
        installed: Sequence[InstalledDist],
        finder: IndexFinder | None,
        build: BuildSettings,
    ) -> tuple[list[Candidate], frozenset[NormalizedName], DirectUrls]:
        """The resolution's candidates with each local one replaced by what installs it
        (built when ``finder`` is given; planned only when it is None), the names already
        installed from the same source, and the PEP 610 record of each."""
        if not self.dists:
            return list(chosen), frozenset(), {}
        from kiln.commands.source_install import SourceTarget, source_installs
        from kiln.lock.model import LockedArchive, LockedDirectory, LockedPackage, LockedVcs
        from kiln.lock.select import Selected

        target = SourceTarget(ctx, Path.cwd(), interpreter.executable, installed, build=build)
        directories: list[LockedDirectory] = []
        selected: list[Selected] = []
        for candidate in chosen:
            dist = self.dists.get(candidate.name)
            if dist is None:
                continue
            if isinstance(dist.locked, LockedDirectory):
                directories.append(dist.locked)
                continue
            package = LockedPackage(
                name=dist.name,
                version=dist.metadata.version,
                marker=None,
                index=None,
                requires_python=None,
                wheels=(),
                sdist=None,
                dependencies=(),
                archive=dist.locked if isinstance(dist.locked, LockedArchive) else None,
                vcs=dist.locked if isinstance(dist.locked, LockedVcs) else None,
            )
            selected.append(Selected(package, None))
        sources = source_installs(target, selected, directories, finder)
        rest = [c for c in chosen if c.name not in self.dists]
        return [*rest, *sources.candidates], sources.keep, sources.direct_urls


def local_sources(
    ctx: CommandContext,
    requirements: Sequence[Requirement],
    locations: Sequence[LocalRequirement],
    finder: IndexFinder,
    python: Callable[[], Interpreter],
    build: BuildSettings,
) -> LocalSources:
    """Fetches every local source named on the command line or in the files."""
    kept: list[Requirement] = []
    wanted: list[tuple[Source, SourceOrigin, str, NormalizedName | None, Requirement | None]] = []
    for requirement in requirements:
        url = requirement.url
        if url is None or url.split("#", 1)[0].endswith(".whl"):
            kept.append(requirement)  # wheels by URL are the resolver's direct files
            continue
        from kiln.project.references import reference_source
        from kiln.project.source_rules import SourceOrigin

        source = reference_source(requirement, Path("the command line"))
        origin = SourceOrigin(Path.cwd(), Path("the command line"), Path.cwd())
        wanted.append(
            (source, origin, str(requirement), canonicalize_name(requirement.name), requirement)
        )
    for location in locations:
        wanted.append((*_location_source(location), location.text, None, None))
    if not wanted:
        return LocalSources(list(requirements))
    from kiln.commands.source_dists import SourceDists

    dists = SourceDists(ctx, finder, python, build=build)
    found: dict[NormalizedName, DirectDist] = {}
    for source, origin, shown, name, asked in wanted:
        dist = dists.identify(source, origin, shown)
        if name is not None and dist.name != name:
            raise UsageError(
                f"`{shown}` is the package `{dist.name}`, not `{name}`",
                hint=f"require `{dist.name} @ …`, or point at `{name}`",
            )
        if dist.name in found and found[dist.name].label != dist.label:
            raise UsageError(
                f"`{dist.name}` is asked for from two places",
                causes=(found[dist.name].label, dist.label),
                hint="keep one of them",
            )
        found[dist.name] = dist
        bare = Requirement(str(asked)) if asked is not None else Requirement(dist.name)
        bare.url = None
        kept.append(bare)
    return LocalSources(kept, found)


def _location_source(location: LocalRequirement) -> tuple[Source, SourceOrigin]:
    from kiln.project.references import git_source
    from kiln.project.source_rules import SourceOrigin
    from kiln.project.uv_tables import Source

    origin = SourceOrigin(location.base, Path(location.where), Path.cwd())
    text = location.text
    if text.startswith("git+"):
        if location.editable:
            raise UsageError(
                f"`-e {text}`: a git URL cannot be installed editable",
                hint="clone it and pass `-e` with the folder",
            )
        return git_source(text), origin
    path = text.removeprefix("file://")
    return Source(path=path, editable=location.editable or None), origin
