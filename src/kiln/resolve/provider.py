"""The resolvelib provider: projects, versions and dependencies as seen from one target.

The provider knows nothing about HTTP or wheels on disk: it asks a `PackageFinder` for files
and metadata, and a `Target` which markers hold and which wheels fit.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib.providers import AbstractProvider

from kiln.core.dist import Candidate, DistFile
from kiln.core.environment import Target
from kiln.core.protocols import Found, NotFound, PackageFinder
from kiln.core.records import field, record, replace
from kiln.core.releases import Releases
from kiln.resolve.candidates import VersionTable, choose_files, lower_bounds
from kiln.resolve.options import DEFAULT_OPTIONS, ResolverOptions

PYTHON = "<python>"
# The most versions of one project (with its extras) read ahead: a new specifier may need
# another version's metadata, and a solver backtracking over a family of releases (boto3's
# each asking for its own botocore range) would otherwise have every one read. Specifiers
# that lead to a version read already cost no request (a cold ML lock met over 50 of
# numpy's).
_REWARMS = 4


@record
class Req:
    """A requirement as the solver sees it: identifier, allowed versions, and who asked."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    source: Requirement | None  # the PEP 508 line, for messages; None for synthetic ones
    url: str | None = None
    parent: str | None = None

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    def __str__(self) -> str:
        return str(self.source) if self.source is not None else f"{self.name}{self.specifier}"


def identifier_of(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@record
class PythonCandidate:
    """The target interpreter, so that ``Requires-Python`` takes part in backtracking."""

    version: Version


Cand = Candidate | PythonCandidate


class Forker(Protocol):
    """What the universal resolver watches while one region is solved: it may stop the
    solve (by raising) to split the region where uv's resolver forks."""

    def admit(
        self,
        name: NormalizedName,
        version: Version,
        files: Mapping[Version, Sequence[DistFile]],
    ) -> bool:
        """Whether ``version`` (``files`` has every version's files) may be tried here;
        False passes over it."""
        ...

    def dependencies(self, parent: str, requirements: Sequence[Requirement]) -> None: ...


@record(frozen=False)
class ProviderState:
    """What the provider learned, kept for error messages after a failed resolution."""

    not_found: dict[NormalizedName, NotFound] = field(default_factory=dict)
    tables: dict[NormalizedName, VersionTable] = field(default_factory=dict)
    requires_python_failures: dict[str, str] = field(default_factory=dict)
    yanked_used: dict[NormalizedName, Candidate] = field(default_factory=dict)
    # (name, version, extras) -> the requirements of that node that apply to the target
    requirements: dict[tuple[NormalizedName, Version, frozenset[str]], tuple[Requirement, ...]] = (
        field(default_factory=dict)
    )


class KilnProvider(AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        finder: PackageFinder,
        target: Target,
        *,
        constraints: Mapping[NormalizedName, SpecifierSet] | None = None,
        no_deps: bool = False,
        overrides: Mapping[NormalizedName, Sequence[Requirement]] | None = None,
        direct: Mapping[NormalizedName, DistFile] | None = None,
        lookahead: ThreadPoolExecutor | None = None,
        forker: Forker | None = None,
        preferred: Mapping[NormalizedName, Sequence[Version]] | None = None,
        options: ResolverOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.finder = finder
        self.options = options
        self.target = target
        self.constraints = dict(constraints or {})
        self.no_deps = no_deps
        self.overrides = dict(overrides or {})
        self.direct = dict(direct or {})
        self.forker = forker
        # Several preferred versions per name (a lock's forks); tried in this order.
        self.preferred = {k: list(v) for k, v in (preferred or {}).items()}
        self.state = ProviderState()
        self._lock = threading.Lock()
        self._lookahead = lookahead
        # identifier -> the specifiers it was read ahead for, all of them met together, and
        # the versions read for them
        self._warmed: dict[str, set[str]] = {}
        self._within: dict[str, SpecifierSet] = {}
        self._warmed_versions: dict[str, set[Version]] = {}
        self._submitted: list[Future[None]] = []
        self._cancelled = False
        # Roots not read ahead yet: they are, once an answer has needed the network.
        self._deferred: list[Req] = []
        self._python = PythonCandidate(Version(target.python_full_version))
        # (id(specifier), name) -> (the specifier, kept so that its id stays its own; the
        # versions of the name's table it allows)
        self._allowed: dict[tuple[int, str], tuple[SpecifierSet, frozenset[Version]]] = {}

    def _allowed_in(self, spec: SpecifierSet, table: VersionTable) -> frozenset[Version]:
        """The versions of ``table`` that ``spec`` allows, pre-releases included. The solver
        asks the same requirement about the same versions each time one of its criteria
        changes: a lock of a hundred packages asked `SpecifierSet.contains` 275,000 times."""
        key = (id(spec), table.name)
        entry = self._allowed.get(key)
        if entry is None or entry[0] is not spec:
            allowed = frozenset(spec.filter(table.versions, prereleases=True))
            entry = self._allowed[key] = (spec, allowed)
        return entry[1]

    # -- tables -----------------------------------------------------------------------

    def table(self, name: NormalizedName) -> VersionTable:
        with self._lock:
            cached = self.state.tables.get(name)
        if cached is not None:
            return cached
        priority: tuple[str, ...] = ()
        builds = False
        if name in self.direct:
            releases = Releases.of((self.direct[name],), name)
        else:
            found = self.finder.find(name)
            if isinstance(found, NotFound):
                with self._lock:
                    self.state.not_found[name] = found
                releases = Releases({})
            else:
                assert isinstance(found, Found)
                releases = found.releases
                priority = found.priority
                builds = found.builds_sdists
        choices = self.options.builds
        table = choose_files(
            name,
            releases,
            self.target,
            priority=priority,
            builds=builds,
            no_binary=choices.no_binary.origin if name in choices.no_binary else None,
            no_build=choices.no_build.origin if name in choices.no_build else None,
        )
        with self._lock:
            self.state.tables[name] = table
        return table

    def _warm(self, reqs: Iterable[Req]) -> None:
        """Fetch, in parallel, the pages and metadata the solver is likely to ask for next.

        Each warmed project's likeliest candidate has its metadata read here too, and its
        dependencies are warmed in turn: the whole probable graph is fetched by the pool
        while the solver, which asks one question at a time, catches up from the cache.
        A project asked for again with another specifier or extra is warmed again, up to
        `_REWARMS` versions: `huggingface-hub<1.0` from a dependency rules out the newest
        release, and `fsspec[http]` pulls in what plain `fsspec` does not.
        """
        if self._lookahead is None or not self.finder.may_use_network():
            # Offline, every answer is a cache read the solver makes as fast itself;
            # threads making them too only hand the GIL around (an offline install of 42
            # pins resolved in 0.10-0.12 s alone, 0.16-0.24 s with them).
            return
        for req in reqs:
            text = str(req.specifier)
            with self._lock:
                if self._cancelled:
                    return
                seen = self._warmed.setdefault(req.identifier, set())
                if text in seen:
                    continue
                seen.add(text)
                known = self._within.get(req.identifier)
                within = req.specifier if known is None else known & req.specifier
                self._within[req.identifier] = within
            submitted = self._lookahead.submit(self._warm_one, req, within)
            with self._lock:
                self._submitted.append(submitted)

    def cancel_lookahead(self) -> None:
        """End this solve's look-ahead: what is queued is dropped, and what is running
        (its reads fill the cache for whoever asks next) queues nothing more. The pool may
        serve other solves, which a finished one's graph would otherwise hold up."""
        with self._lock:
            self._cancelled = True
            queued, self._submitted = self._submitted, []
        for future in queued:
            future.cancel()

    def _warm_one(self, req: Req, within: SpecifierSet) -> None:
        # Runs in the look-ahead pool: a failure stays in its future, unobserved, and the
        # solver meets the same failure itself when it gets there. Once the solve has
        # ended, a task queued after the cancel does nothing.
        if self._cancelled:
            return
        table = self.table(req.name)
        # The version the solver will try first: a pre-release a final outranks, or a newer
        # version than the one another region chose, would be fetched for nothing. Within
        # every specifier met so far (the solver's pick must meet them all), or within this
        # one alone where they no longer meet: they came from versions the solver has left.
        versions = self._to_try(req.name, [replace(req, specifier=within)], table)
        for version in versions or self._to_try(req.name, [req], table):
            choice = table.choice(version)
            if choice.file is None or (choice.yanked and not self._pinned_exactly(req.name, [req])):
                continue
            with self._lock:
                read = self._warmed_versions.setdefault(req.identifier, set())
                if version in read or len(read) >= _REWARMS:
                    return
                read.add(version)
            if self.no_deps:
                return
            metadata = self.finder.metadata(choice.file)
            parent = f"{req.name} {version}"
            self._warm_further(
                requirement_to_req(r, parent)
                for r in metadata.requires_dist
                if self.target.evaluate(r.marker, frozenset(req.extras))
            )
            return

    def defer_roots(self, roots: Sequence[Req]) -> None:
        """Read ``roots`` ahead only once an answer has needed the network: a cache that
        holds their pages may lack what comes after them (a root's metadata)."""
        with self._lock:
            self._deferred = list(roots)

    def _warm_further(self, reqs: Iterable[Req]) -> None:
        """Warm the next layer only while answers have needed the network: what a cache holds
        is read as fast by the solver itself, and look-ahead threads reading it too only
        hold the GIL in turn (a warm ML lock took 2.3 s with them, 2.1 s without)."""
        if self.finder.used_network():
            with self._lock:
                deferred, self._deferred = self._deferred, []
            self._warm(itertools.chain(deferred, reqs))

    # -- resolvelib protocol -------------------------------------------------------------

    def identify(self, requirement_or_candidate: Req | Cand) -> str:
        if isinstance(requirement_or_candidate, PythonCandidate):
            return PYTHON
        if isinstance(requirement_or_candidate, Req):
            if requirement_or_candidate.name == PYTHON:
                return PYTHON
            return requirement_or_candidate.identifier
        return identifier_of(requirement_or_candidate.name, requirement_or_candidate.extras)

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Cand],
        candidates: Mapping[str, Iterator[Cand]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple[bool, bool, bool, bool, str]:
        infos = list(information[identifier])
        pinned = any(
            info.requirement.url is not None
            or any(s.operator in ("==", "===") for s in info.requirement.specifier)
            for info in infos
        )
        causes = {cause.requirement.name for cause in backtrack_causes}
        is_root = any(info.parent is None for info in infos)
        # Python first (it has one candidate), then exact pins, then what just caused
        # backtracking, then what the user asked for directly.
        return (
            identifier != PYTHON,
            not pinned,
            identifier.split("[")[0] not in causes,
            not is_root,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Cand]],
    ) -> list[Cand] | Callable[[], Iterator[Cand]]:
        if identifier == PYTHON:
            reqs = list(requirements[identifier])
            if all(r.specifier.contains(self._python.version, prereleases=True) for r in reqs):
                return [self._python]
            return []
        reqs = list(requirements[identifier])
        name = reqs[0].name
        extras = frozenset().union(*(r.extras for r in reqs))
        bad = {c.version for c in incompatibilities[identifier] if isinstance(c, Candidate)}
        table = self.table(name)
        versions = self._to_try(name, reqs, table, bad)
        pinned_exact = self._pinned_exactly(name, reqs)
        forker = self.forker

        def candidates() -> Iterator[Cand]:
            # Lazy: the solver usually takes the first candidate, so later versions' wheels
            # are never ranked (the table remembers what was ranked, for the next call).
            for version in versions:
                choice = table.choice(version)
                if choice.file is None:
                    if forker is not None and choice.rejected_for_python:
                        # Fits only part of the region's Pythons: the forker may split there.
                        forker.admit(name, version, table.files)
                    continue
                if choice.yanked and not pinned_exact:
                    continue  # PEP 592: a yanked file is chosen only when pinned exactly
                if forker is not None and not forker.admit(name, version, table.files):
                    continue
                yield Candidate(name, version, choice.file, extras)

        return candidates

    def _user_specs(self, name: NormalizedName, reqs: Sequence[Req]) -> list[SpecifierSet]:
        # Only the user's own requirements and constraints opt in to yanked files and to
        # pre-releases, as uv decides; a dependency's pin does not.
        user_specs = [r.specifier for r in reqs if r.parent is None]
        constraint = self.constraints.get(name)
        if constraint is not None:
            user_specs.append(constraint)
        return user_specs

    def _pinned_exactly(self, name: NormalizedName, reqs: Sequence[Req]) -> bool:
        return any(
            s.operator in ("==", "===") and "*" not in s.version
            for spec in self._user_specs(name, reqs)
            for s in spec
        )

    def _to_try(
        self,
        name: NormalizedName,
        reqs: Sequence[Req],
        table: VersionTable,
        bad: Set[Version] = frozenset(),
    ) -> list[Version]:
        """The versions ``reqs`` allow, in the order the solver tries them."""
        constraint = self.constraints.get(name)
        specs = [r.specifier for r in reqs] + ([constraint] if constraint is not None else [])
        allowed = frozenset.intersection(*(self._allowed_in(spec, table) for spec in specs))
        matching = [v for v in table.versions if v in allowed and v not in bad]
        direct = (
            name in self.options.direct
            if self.options.direct is not None
            else any(r.parent is None for r in reqs)
        )
        versions = self._ordered(matching, self._user_specs(name, reqs), direct=direct)
        firsts = self.preferred.get(name, [])
        # A release's builds go together: preferring `2.5.1` (another region's plain build)
        # also prefers `2.5.1+cpu`, so that the local build is weighed first, as it is
        # without preferences, and gives way only where its wheels do not reach.
        with_builds: list[Version] = []
        for first in firsts:
            with_builds += [v for v in versions if v.local is not None and v.public == first.public]
            with_builds.append(first)
        for preferred in reversed(list(dict.fromkeys(with_builds))):
            if preferred in versions:
                versions.remove(preferred)
                versions.insert(0, preferred)
        return versions

    def _ordered(
        self,
        matching: Sequence[Version],
        user_specs: Sequence[SpecifierSet],
        *,
        direct: bool,
    ) -> list[Version]:
        """The versions in range in the order to try them, by `--prerelease` and
        `--resolution` (`resolve/options.py` says what each mode admits).

        Outside ``allow`` final releases come first and pre-releases after them where the
        mode admits them, so a final is kept whenever one fits and a pre-release is the
        fallback, also after backtracking (``matching`` leaves out what was ruled out).
        """
        mode = self.options.prerelease
        lowest = self.options.resolution == "lowest" or (
            self.options.resolution == "lowest-direct" and direct
        )
        # Highest keeps the table's order: newest first, or index by index (`Found.priority`).
        ordered = sorted(matching) if lowest else list(matching)
        if mode == "allow":
            return ordered
        finals = [v for v in ordered if not v.is_prerelease]
        if mode == "disallow":
            return finals
        pre = [v for v in ordered if v.is_prerelease]
        # Outside ``explicit`` the fallback is in the order itself: the solver reaches a
        # pre-release only once every final release in range is ruled out, also by a
        # conflict met while pinning (which no later call would see in ``matching``).
        admitted = mode != "explicit" or any(spec.prereleases for spec in user_specs)
        return finals + pre if admitted else finals

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        if isinstance(candidate, PythonCandidate):
            return requirement.specifier.contains(candidate.version, prereleases=True)
        if requirement.url is not None:
            return candidate.file.url == requirement.url or requirement.name in self.direct
        table = self.state.tables.get(candidate.name)
        if table is None:
            return requirement.specifier.contains(candidate.version, prereleases=True)
        return candidate.version in self._allowed_in(requirement.specifier, table)

    def overridden(self, requirements: Sequence[Requirement]) -> list[Requirement]:
        """``override-dependencies``: a requirement on an overridden project is replaced by the
        override, wherever it comes from; the override's own marker then decides."""
        out: list[Requirement] = []
        for requirement in requirements:
            replacement = self.overrides.get(canonicalize_name(requirement.name))
            if replacement is None:
                out.append(requirement)
            elif requirement not in out:
                out.extend(r for r in replacement if r not in out)
        return out

    def get_dependencies(self, candidate: Cand) -> list[Req]:
        if isinstance(candidate, PythonCandidate):
            return []
        deps: list[Req] = []
        parent = f"{candidate.name} {candidate.version}"
        if candidate.extras:
            # name[extra] depends on name at the very same version, so both resolve together.
            deps.append(
                Req(
                    candidate.name,
                    frozenset(),
                    SpecifierSet(f"=={candidate.version}"),
                    None,
                    url=candidate.file.url if candidate.name in self.direct else None,
                    parent=parent,
                )
            )
        if self.no_deps:
            return deps
        metadata = self.finder.metadata(candidate.file)
        if metadata.requires_python is not None and not lower_bounds(
            metadata.requires_python
        ).contains(self._python.version, prereleases=True):
            self.state.requires_python_failures[parent] = str(metadata.requires_python)
            deps.append(
                Req(
                    NormalizedName(PYTHON),
                    frozenset(),
                    metadata.requires_python,
                    None,
                    parent=parent,
                )
            )
            return deps
        kept: list[Requirement] = []
        for requirement in self.overridden(metadata.requires_dist):
            if not self.target.evaluate(requirement.marker, frozenset(candidate.extras)):
                continue
            kept.append(requirement)
            deps.append(requirement_to_req(requirement, parent))
        if self.forker is not None:
            self.forker.dependencies(parent, kept)
        with self._lock:
            self.state.requirements[(candidate.name, candidate.version, candidate.extras)] = tuple(
                kept
            )
        self._warm_further(deps)
        return deps


def requirement_to_req(requirement: Requirement, parent: str | None = None) -> Req:
    return Req(
        canonicalize_name(requirement.name),
        frozenset(canonicalize_name(e) for e in requirement.extras),
        requirement.specifier,
        requirement,
        url=requirement.url,
        parent=parent,
    )
