"""One resolution for every environment a lock serves, forked over the marker space.

The region a lock serves (``requires-python`` as a lower bound, and ``environments``) is first
split where the inputs already differ: each choice among conflicting extras or groups (and
the choice of none of them), and where a source, constraint or override applies only under a
marker. Each piece is then solved as one region (`region.Region`); while it is solved,
`forks.RegionForker` may split it further, and the pieces are solved again, preferring the
versions other pieces chose so that the lock keeps as few versions as it can.

The pieces' results are merged into entries. An entry's marker is where it is reached: the
markers of the requirements on the path from the project to it, met with its piece, joined
over pieces and simplified within the lock's region.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.errors import ResolutionError
from kiln.core.markers import NEVER, complement, implies, intersect, is_empty, union, within
from kiln.core.pools import started_pool
from kiln.core.protocols import Found, PackageFinder
from kiln.core.records import field, record
from kiln.resolve.forks import ForkNeeded, ForkStrategy, RegionForker, partition
from kiln.resolve.options import DEFAULT_OPTIONS, ResolverOptions
from kiln.resolve.region import Region, edge_markers
from kiln.resolve.resolver import LOOKAHEAD, Resolution, resolve, warm

# A region that keeps splitting is a bug or a pathological graph; stop with a message.
_MAX_SOLVES = 400
# Threads reading ahead for the regions waiting to be solved, beside the solved region's
# own: solving a cold >=3.12 ML lock's newer-Python region took 0.6-0.9 s with 8, 0.9 s
# with 4.
_AHEAD = 8
# How many of the waiting regions are read ahead: the next ones to be solved. A lock of
# many regions (conflicting extras, splits) would otherwise walk every region's graph at
# once, most of it the same pages and metadata, for regions solved much later.
_AHEAD_REGIONS = 2


@record
class RootRequirements:
    """The project's own requirements: the base ones, and those of each extra and group."""

    base: tuple[Requirement, ...]
    extras: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)
    groups: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)

    def requirements(self) -> list[Requirement]:
        """Every root requirement, those of an extra or group under a PEP 751 marker
        (``'cpu' in extras``) so that they apply only where that one is selected."""
        out = list(self.base)
        for kind, table in (("extras", self.extras), ("dependency_groups", self.groups)):
            for name in sorted(table):
                for r in table[name]:
                    out.append(_under(r, f"'{name}' in {kind}"))
        return out


def _under(requirement: Requirement, condition: str) -> Requirement:
    marker = f"({requirement.marker}) and {condition}" if requirement.marker else condition
    return _with_marker(requirement, Marker(marker))


def _with_marker(requirement: Requirement, marker: Marker | None) -> Requirement:
    copy = Requirement(str(requirement))
    copy.marker = marker
    return copy


@record
class Manifest:
    """Everything a universal resolution is asked: one value, made at the command's edge."""

    roots: RootRequirements
    region: Marker | None = None  # requires-python and environments
    # Each set: ("extra" | "group", name); at most one of a set is selected at a time.
    conflicts: tuple[tuple[tuple[str, NormalizedName], ...], ...] = ()
    # Conditions under which a source applies (marker, extra, group), split on before solving.
    source_conditions: tuple[Marker, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    # Name -> versions a previous lock chose, each with the marker where it applied.
    preferences: Mapping[NormalizedName, tuple[tuple[Version, Marker | None], ...]] = field(
        default_factory=dict
    )
    strategy: ForkStrategy = "requires-python"
    required: tuple[Marker, ...] = ()  # required-environments
    # The regions a previous lock was solved in: solving starts from them again.
    previous_forks: tuple[Marker, ...] = ()
    # `--prerelease`, `--resolution` and the binary/build choices, for every region.
    options: ResolverOptions = DEFAULT_OPTIONS


@record
class UniversalEntry:
    """One package version a universal resolution chose, and where it applies."""

    name: NormalizedName
    version: Version
    marker: Marker | None
    index: str
    files: tuple[DistFile, ...]  # every file of this version on its index
    dependencies: tuple[NormalizedName, ...]
    requires_python: str | None


@record
class Unsupported:
    """A part of the lock's region that cannot be installed, kept in the lock so that
    installing there fails with the reason found at lock time."""

    marker: Marker
    reason: str


@record
class UniversalResolution:
    """A resolution over the whole marker space, forks merged."""

    entries: tuple[UniversalEntry, ...]
    unsupported: tuple[Unsupported, ...] = ()
    # The region the lock serves once conflicting selections are left out; markers are
    # written within it.
    context: Marker | None = None
    forks: tuple[Marker | None, ...] = ()


FinderFor = Callable[[Region], PackageFinder]


@record
class _Fork:
    """One region of a universal resolution, and whether its failure may be recorded."""

    region: Region
    # A failure here is recorded as unsupported rather than failing the lock: the fork is
    # the platforms a local build left to the plain one (uv fails the lock instead).
    # Anywhere else a failure is the lock's: an extra that resolves nowhere is an error.
    tolerant: bool


def conflict_regions(
    conflicts: Sequence[Sequence[tuple[str, NormalizedName]]],
) -> list[tuple[Marker | None, bool]]:
    """One region per way of choosing at most one item from each conflict set, each with
    whether it selects something (the choice of none of them is a region of its own)."""
    regions: list[tuple[Marker | None, bool]] = [(None, False)]
    for items in conflicts:
        step: list[tuple[Marker | None, bool]] = []
        for chosen in [None, *items]:
            parts = [_has(item, item == chosen) for item in items]
            condition = Marker(" and ".join(parts)) if parts else None
            for marker, picked in regions:
                joined = intersect(marker, condition)
                if not is_empty(joined):
                    step.append((joined, picked or chosen is not None))
        regions = step
    return regions


def _has(item: tuple[str, NormalizedName], present: bool) -> str:
    kind, name = item
    variable = "extras" if kind == "extra" else "dependency_groups"
    return f"'{name}' {'in' if present else 'not in'} {variable}"


def resolve_universal(manifest: Manifest, finder_for: FinderFor) -> UniversalResolution:
    """Solve every region the manifest's lock serves and merge the results into entries.

    A region that cannot be solved is recorded as unsupported when it is where a local
    build left the platforms to a plain build that is not there either; otherwise (and
    always inside ``required-environments``) the lock fails with the solver's reason.
    """
    conditions = [*manifest.source_conditions]
    conditions += [r.marker for r in (*manifest.constraints, *manifest.overrides) if r.marker]
    queue: deque[_Fork] = deque()
    context: Marker | None = NEVER
    for marker, _ in conflict_regions(manifest.conflicts):
        piece = intersect(manifest.region, marker)
        if is_empty(piece):
            continue
        context = union(context, piece)
        for part in partition(piece, conditions):
            for seeded in _seeded(part, manifest.previous_forks):
                queue.append(_Fork(Region(seeded), tolerant=False))
    solved: list[tuple[_Fork, Resolution, PackageFinder]] = []
    failures: list[tuple[_Fork, ResolutionError]] = []
    chosen: dict[NormalizedName, list[Version]] = defaultdict(list)
    roots = manifest.roots.requirements()
    solves = 0
    # One look-ahead pool for every region's solve, its threads started before the first;
    # none offline, where every answer is a cache read.
    online = bool(queue) and finder_for(queue[0].region).may_use_network()
    ahead = started_pool(_AHEAD, "kiln-ahead") if online else None
    lookahead = started_pool(LOOKAHEAD, "kiln-lookahead") if online else None
    # id -> fork: holding the fork keeps its id from being reused by a later one.
    read: dict[int, _Fork] = {}

    def read_ahead() -> None:
        """Have the next regions to be solved fetched meanwhile: a newer Python's or another
        platform's wheels were a cold lock's last second. Only once answers have needed the
        network: from a warm cache the solver reads as fast itself, and more threads
        reading only hold the GIL in turn."""
        if ahead is None:
            return
        for later in itertools.islice(queue, _AHEAD_REGIONS):
            if id(later) in read:
                continue
            finder = finder_for(later.region)
            if not finder.used_network():
                continue
            read[id(later)] = later
            warm(
                roots,
                finder,
                later.region,
                ahead,
                constraints=_applying(manifest.constraints, later.region),
                overrides=_applying(manifest.overrides, later.region),
                preferred=_preferred(manifest, later.region, chosen),
                options=manifest.options,
            )

    try:
        while queue:
            fork = queue.popleft()
            read_ahead()
            solves += 1
            if solves > _MAX_SOLVES:
                raise ResolutionError(
                    f"the resolution split into more than {_MAX_SOLVES} regions and was abandoned",
                    hint="pin the packages whose versions differ by Python or platform",
                )
            finder = finder_for(fork.region)
            try:
                resolution = resolve(
                    roots,
                    finder,
                    fork.region,
                    constraints=_applying(manifest.constraints, fork.region),
                    overrides=_applying(manifest.overrides, fork.region),
                    forker=RegionForker(fork.region, manifest.strategy),
                    preferred=_preferred(manifest, fork.region, chosen),
                    options=manifest.options,
                    lookahead=lookahead,
                )
            except ForkNeeded as split:
                pieces = [intersect(fork.region.marker, part) for part in split.parts]
                new = [
                    _Fork(Region(p), fork.tolerant or split.local)
                    for p in pieces
                    if not is_empty(p)
                ]
                queue.extendleft(reversed(new))
                continue
            except ResolutionError as error:
                failures.append((fork, error))
                continue
            solved.append((fork, resolution, finder))
            for cand in resolution.candidates:
                if cand.version not in chosen[cand.name]:
                    chosen[cand.name].append(cand.version)
    finally:
        # Reads not started yet are dropped; those under way finish on their threads, and
        # only a later request of theirs is refused.
        for pool in (ahead, lookahead):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
    unsupported = _failures(manifest, failures, solved, context)
    entries = _merge(solved, roots, context)
    forks = tuple(within(fork.region.marker, context) for fork, _, _ in solved)
    return UniversalResolution(
        entries,
        unsupported,
        context=context,
        forks=forks if len(forks) > 1 else (),
    )


def _seeded(piece: Marker | None, forks: Sequence[Marker]) -> list[Marker | None]:
    """``piece`` cut along a previous lock's regions, and what they leave of it."""
    if not forks:
        return [piece]
    out: list[Marker | None] = []
    rest: Marker | None = piece
    for fork in forks:
        part = intersect(piece, fork)
        if not is_empty(part):
            out.append(part)
            rest = intersect(rest, complement(fork))
    if not is_empty(rest):
        out.append(rest)
    return out or [piece]


def _applying(requirements: Sequence[Requirement], region: Region) -> list[Requirement]:
    # After the split on their markers, each applies to a whole region or not at all.
    out = []
    for r in requirements:
        if r.marker is None or region.meets(r.marker):
            out.append(_with_marker(r, None))
    return out


def _preferred(
    manifest: Manifest, region: Region, chosen: Mapping[NormalizedName, Sequence[Version]]
) -> dict[NormalizedName, list[Version]]:
    """The previous lock's versions that applied somewhere in this region, newest first,
    then what the other regions of this resolution chose."""
    out: dict[NormalizedName, list[Version]] = {}
    pins: Sequence[tuple[Version, Marker | None]]
    for name, pins in manifest.preferences.items():
        kept = sorted((v for v, m in pins if region.meets(m)), reverse=True)
        if kept:
            out[name] = kept
    for name, versions in chosen.items():
        out.setdefault(name, [])
        out[name] += [v for v in versions if v not in out[name]]
    return out


def _failures(
    manifest: Manifest,
    failures: Sequence[tuple[_Fork, ResolutionError]],
    solved: Sequence[tuple[_Fork, Resolution, PackageFinder]],
    context: Marker | None,
) -> tuple[Unsupported, ...]:
    out: list[Unsupported] = []
    for fork, error in failures:
        where = within(fork.region.marker, context)
        required = any(fork.region.meets(m) for m in manifest.required)
        if required or not fork.tolerant or not solved:
            tail = "" if solved else ", and no other part of the lock's region resolved either"
            raise type(error)(
                f"{error.message} (while locking for {_words(where)}{tail})",
                causes=error.causes,
                hint=error.hint,
            ) from None
        out.append(Unsupported(where or NEVER, f"{error.message} (for {_words(where)})"))
    return tuple(out)


def _words(marker: Marker | None) -> str:
    return "every environment" if marker is None else f"`{marker}`"


_Node = tuple[NormalizedName, frozenset[str]]


def _reach(
    resolution: Resolution, roots: Sequence[Requirement], region: Region
) -> dict[_Node, Marker | None]:
    """Where each node of one region's resolution is installed: the region met with the
    markers along the requirements that lead to it, joined over every path."""
    pinned = {(c.name, c.extras) for c in resolution.nodes}
    reach: dict[_Node, Marker | None] = {}
    pending: deque[_Node] = deque()

    def arrive(node: _Node, marker: Marker | None) -> None:
        if node not in pinned:
            return
        marker = intersect(marker, region.marker)
        if is_empty(marker):
            return
        if node in reach:
            old = reach[node]
            if implies(marker, old):
                return
            marker = union(old, marker)
        reach[node] = marker
        pending.append(node)

    for r in roots:
        for m in edge_markers(r.marker, frozenset()):
            node: _Node = (canonicalize_name(r.name), frozenset(map(canonicalize_name, r.extras)))
            arrive(node, m)
            arrive((node[0], frozenset()), m)
    while pending:
        node = pending.popleft()
        here = reach[node]
        for r in resolution.requirements.get(node, ()):
            child: _Node = (canonicalize_name(r.name), frozenset(map(canonicalize_name, r.extras)))
            for m in edge_markers(r.marker, node[1]):
                edge = intersect(here, m)
                arrive(child, edge)
                arrive((child[0], frozenset()), edge)
    return reach


def _merge(
    solved: Sequence[tuple[_Fork, Resolution, PackageFinder]],
    roots: Sequence[Requirement],
    context: Marker | None,
) -> tuple[UniversalEntry, ...]:
    markers: dict[tuple[NormalizedName, Version, str], Marker | None] = {}
    files: dict[tuple[NormalizedName, Version, str], tuple[DistFile, PackageFinder]] = {}
    deps: dict[tuple[NormalizedName, Version, str], set[NormalizedName]] = defaultdict(set)
    for fork, resolution, finder in solved:
        reach = _reach(resolution, roots, fork.region)
        by_name = resolution.by_name()
        for (name, extras), marker in reach.items():
            cand = by_name[name]
            key = (name, cand.version, cand.file.index)
            markers[key] = union(markers[key], marker) if key in markers else marker
            files.setdefault(key, (cand.file, finder))
            for r in resolution.requirements.get((name, extras), ()):
                child = canonicalize_name(r.name)
                if child != name and child in by_name:
                    deps[key].add(child)
    entries = []
    for key, marker in markers.items():
        name, version, index = key
        file, finder = files[key]
        entries.append(
            UniversalEntry(
                name=name,
                version=version,
                marker=within(marker, context),
                index=index,
                files=_files_of(finder, name, version, index) or (file,),
                dependencies=tuple(sorted(deps[key])),
                requires_python=file.requires_python,
            )
        )
    return tuple(sorted(entries, key=lambda e: (e.name, e.version, str(e.marker))))


def _files_of(
    finder: PackageFinder, name: NormalizedName, version: Version, index: str
) -> tuple[DistFile, ...]:
    found = finder.find(name)
    if not isinstance(found, Found):
        return ()
    out = [f for f in found.releases.get(version, ()) if f.index == index]
    return tuple(sorted(out, key=lambda f: f.filename))
