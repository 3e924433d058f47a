"""Resolve requirements for one target into a set of pinned candidates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from kiln.core.dist import Candidate, DistFile
from kiln.core.environment import Target
from kiln.core.errors import ResolutionError
from kiln.core.pools import started_pool
from kiln.core.protocols import PackageFinder
from kiln.core.records import field, record
from kiln.resolve.explain import explain_impossible
from kiln.resolve.options import DEFAULT_OPTIONS, ResolverOptions
from kiln.resolve.provider import (
    Forker,
    KilnProvider,
    PythonCandidate,
    Req,
    requirement_to_req,
)

# Threads reading pages and metadata ahead of the solver: 16 or 32 made a cold lock slower
# on two cores, the threads holding the GIL in turn.
LOOKAHEAD = 8
# Generous: real graphs (e.g. the scientific stack) need a few thousand rounds at worst.
_MAX_ROUNDS = 20_000


@record
class Resolution:
    """Pinned candidates, one per project, sorted by name, and who depends on whom."""

    candidates: tuple[Candidate, ...]
    # name -> names it depends on (within this resolution)
    graph: Mapping[NormalizedName, tuple[NormalizedName, ...]]
    yanked: tuple[Candidate, ...] = ()
    # Every node the solver pinned, ``name[extra]`` ones included, with the requirements of
    # each that apply to the target: the universal resolver follows markers along these.
    nodes: tuple[Candidate, ...] = ()
    requirements: Mapping[tuple[NormalizedName, frozenset[str]], tuple[Requirement, ...]] = field(
        default_factory=dict
    )

    def by_name(self) -> dict[NormalizedName, Candidate]:
        return {c.name: c for c in self.candidates}


def resolve(
    requirements: Sequence[Requirement],
    finder: PackageFinder,
    target: Target,
    *,
    constraints: Sequence[Requirement] = (),
    preferences: Mapping[NormalizedName, Version] | None = None,
    direct: Mapping[NormalizedName, DistFile] | None = None,
    no_deps: bool = False,
    overrides: Sequence[Requirement] = (),
    forker: Forker | None = None,
    preferred: Mapping[NormalizedName, Sequence[Version]] | None = None,
    options: ResolverOptions = DEFAULT_OPTIONS,
    lookahead: ThreadPoolExecutor | None = None,
) -> Resolution:
    """Pick one version of every project that ``requirements`` reach on ``target``.

    Root requirements whose markers do not hold on the target are dropped, as installers do.
    ``lookahead`` is a pool shared with other solves (a lock's regions), so that its threads
    are started once (see `started_pool`): a small lock's regions started twenty of them.
    Without one, the solve makes its own.
    """
    pool = lookahead
    if pool is None and finder.may_use_network():
        pool = started_pool(LOOKAHEAD, "kiln-lookahead")
    provider: KilnProvider | None = None
    try:
        provider = _provider(
            finder,
            target,
            constraints,
            overrides,
            pool,
            no_deps=no_deps,
            direct=direct,
            forker=forker,
            # One version per name from an installer's pins, several from a lock's forks.
            preferred={
                **{name: [version] for name, version in (preferences or {}).items()},
                **(preferred or {}),
            },
            options=options,
        )
        kept = _kept(provider, requirements, target)
        if forker is not None:
            forker.dependencies("", kept)
        roots: list[Req] = [requirement_to_req(r) for r in kept]
        # Fetched together, unless nothing has needed the network and the cache holds
        # every root's pages: then the solver reads them as fast itself, and threads
        # reading them too only hand the GIL around (a warm install of 42 pins, dry run:
        # 0.29-0.31 s with them, 0.24 without), until an answer needs the network.
        if finder.used_network() or not finder.answers_from_cache(r.name for r in roots):
            provider._warm(roots)
        else:
            provider.defer_roots(roots)
        solver: Resolver = Resolver(provider, BaseReporter())  # type: ignore[type-arg]
        try:
            result = solver.resolve(roots, max_rounds=_MAX_ROUNDS)
        except ResolutionImpossible as exc:
            raise explain_impossible(list(exc.causes), provider, target) from None
        except ResolutionTooDeep:
            raise ResolutionError(
                "resolution took too many steps and was abandoned",
                hint="pin some of the requirements more tightly (e.g. `pkg==X.Y`)",
            ) from None
    finally:
        # Look-ahead the solver no longer needs must not delay the answer.
        if lookahead is None and pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        elif provider is not None:
            provider.cancel_lookahead()

    pinned: dict[NormalizedName, Candidate] = {}
    for candidate in result.mapping.values():
        if isinstance(candidate, PythonCandidate):
            continue
        existing = pinned.get(candidate.name)
        # name and name[extra] resolve to the same version; keep one entry per project.
        if existing is None or (not candidate.extras and existing.extras):
            pinned[candidate.name] = Candidate(candidate.name, candidate.version, candidate.file)
    graph: dict[NormalizedName, set[NormalizedName]] = {name: set() for name in pinned}
    for key, parent in result.graph.iter_edges():
        if key is None or parent is None:
            continue
        a, b = NormalizedName(key.split("[")[0]), NormalizedName(parent.split("[")[0])
        if a in pinned and b in pinned and a != b:
            graph[a].add(b)
    yanked = tuple(c for c in pinned.values() if c.file.yanked is not None)
    nodes = tuple(
        sorted(
            (c for c in result.mapping.values() if isinstance(c, Candidate)),
            key=lambda c: (c.name, sorted(c.extras)),
        )
    )
    reqs = provider.state.requirements
    return Resolution(
        candidates=tuple(sorted(pinned.values(), key=lambda c: c.name)),
        graph={name: tuple(sorted(deps)) for name, deps in graph.items()},
        yanked=yanked,
        nodes=nodes,
        requirements={
            (c.name, c.extras): reqs.get((c.name, c.version, c.extras), ()) for c in nodes
        },
    )


def warm(
    requirements: Sequence[Requirement],
    finder: PackageFinder,
    target: Target,
    pool: ThreadPoolExecutor,
    *,
    constraints: Sequence[Requirement] = (),
    overrides: Sequence[Requirement] = (),
    preferred: Mapping[NormalizedName, Sequence[Version]] | None = None,
    options: ResolverOptions = DEFAULT_OPTIONS,
) -> None:
    """Have ``pool`` fetch the pages and metadata a later `resolve` of the same question is
    likely to ask for, and return at once: a lock solves its regions one after another, and
    a region's own wheels (a newer Python's, another platform's) are read while the one
    before it is solved."""
    provider = _provider(
        finder, target, constraints, overrides, pool, preferred=preferred, options=options
    )
    provider._warm([requirement_to_req(r) for r in _kept(provider, requirements, target)])


def _provider(
    finder: PackageFinder,
    target: Target,
    constraints: Sequence[Requirement],
    overrides: Sequence[Requirement],
    lookahead: ThreadPoolExecutor | None,
    *,
    no_deps: bool = False,
    direct: Mapping[NormalizedName, DistFile] | None = None,
    forker: Forker | None = None,
    preferred: Mapping[NormalizedName, Sequence[Version]] | None = None,
    options: ResolverOptions = DEFAULT_OPTIONS,
) -> KilnProvider:
    constraint_specs: dict[NormalizedName, SpecifierSet] = {}
    for c in constraints:
        if not target.evaluate(c.marker):
            continue
        name = canonicalize_name(c.name)
        constraint_specs[name] = constraint_specs.get(name, SpecifierSet()) & c.specifier
    override_map: dict[NormalizedName, list[Requirement]] = {}
    for o in overrides:
        override_map.setdefault(canonicalize_name(o.name), []).append(o)
    return KilnProvider(
        finder,
        target,
        constraints=constraint_specs,
        no_deps=no_deps,
        direct=direct,
        overrides=override_map,
        lookahead=lookahead,
        forker=forker,
        preferred=preferred,
        options=options,
    )


def _kept(
    provider: KilnProvider, requirements: Sequence[Requirement], target: Target
) -> list[Requirement]:
    """The root requirements after overrides, those whose markers hold on ``target``."""
    return [
        r for r in provider.overridden(list(requirements)) if target.evaluate(r.marker, frozenset())
    ]
