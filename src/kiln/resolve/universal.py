"""One resolution for many targets: every platform and Python a lock serves, every fork of
conflicting extras or groups, merged into entries that each carry the marker where they apply.

Each (target, fork) pair is resolved as a concrete environment, with the versions already
chosen elsewhere preferred so that the lock keeps one version wherever it can. The per-target
results are then merged: an entry's marker is the union of the targets where it was chosen,
narrowed by the extras or groups that pull it in, and by its fork when forks disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.environment import Environment
from kiln.core.errors import ResolutionError
from kiln.core.markers import simplify
from kiln.core.protocols import Found, PackageFinder
from kiln.resolve.resolver import Resolution, resolve


@dataclass(frozen=True)
class TargetSpec:
    """One platform at one Python minor version."""

    platform: str  # "linux-x86_64"
    platform_marker: str  # "sys_platform == 'linux' and platform_machine == 'x86_64'"
    sys_platform: str
    python: tuple[int, int]
    env: Environment

    @property
    def key(self) -> str:
        return f"{self.platform}/cp{self.python[0]}{self.python[1]}"


@dataclass(frozen=True)
class ForkSpec:
    """Extras and groups enabled together; ``condition`` says when its entries apply."""

    extras: frozenset[NormalizedName] = frozenset()
    groups: frozenset[NormalizedName] = frozenset()
    condition: str | None = None


@dataclass(frozen=True)
class RootRequirements:
    base: tuple[Requirement, ...]
    extras: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)
    groups: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class UniversalEntry:
    name: NormalizedName
    version: Version
    marker: Marker | None
    index: str
    files: tuple[DistFile, ...]  # every file of this version on its index
    dependencies: tuple[NormalizedName, ...]
    requires_python: str | None


@dataclass(frozen=True)
class Unsupported:
    """A fork that cannot be installed on a target, kept in the lock so that installing it
    there fails with the reason found at lock time instead of a half-empty environment."""

    marker: Marker
    reason: str


@dataclass(frozen=True)
class UniversalResolution:
    entries: tuple[UniversalEntry, ...]
    unsupported: tuple[Unsupported, ...] = ()


FinderFor = Callable[[TargetSpec, ForkSpec], PackageFinder]

# Where one resolution saw a package: (target key, fork index) -> the activators that reach it.
_Activators = frozenset[str]


def forks_for(
    conflicts: Sequence[Sequence[tuple[str, NormalizedName]]],
    extras: Sequence[NormalizedName],
    groups: Sequence[NormalizedName],
) -> list[ForkSpec]:
    """Every extra and group enabled, except that from each conflict set only one item is.

    ``conflicts`` items are ("extra" | "group", name). A fork choosing item ``x`` of a set
    applies when ``x`` is selected; the first item of a set also covers "none of them".
    """
    if not conflicts:
        return [ForkSpec(frozenset(extras), frozenset(groups))]
    conflicting = {item for group in conflicts for item in group}
    free_extras = frozenset(e for e in extras if ("extra", e) not in conflicting)
    free_groups = frozenset(g for g in groups if ("group", g) not in conflicting)
    choices: list[list[tuple[tuple[str, NormalizedName], str]]] = []
    for group in conflicts:
        options = []
        for i, item in enumerate(group):
            chosen = _in(item)
            if i == 0:
                others = [f"{_not_in(other)}" for other in group[1:]]
                condition = f"({chosen} or ({' and '.join(others)}))" if others else chosen
            else:
                condition = chosen
            options.append((item, condition))
        choices.append(options)
    forks: list[ForkSpec] = []

    def walk(depth: int, picked: list[tuple[tuple[str, NormalizedName], str]]) -> None:
        if depth == len(choices):
            items = [item for item, _ in picked]
            if any(items.count(i) > 1 for i in items):
                return
            fork_extras = free_extras | {n for kind, n in items if kind == "extra"}
            fork_groups = free_groups | {n for kind, n in items if kind == "group"}
            condition = " and ".join(c for _, c in picked)
            forks.append(ForkSpec(frozenset(fork_extras), frozenset(fork_groups), condition))
            return
        for option in choices[depth]:
            walk(depth + 1, [*picked, option])

    walk(0, [])
    return forks


def _in(item: tuple[str, NormalizedName]) -> str:
    kind, name = item
    return f"'{name}' in {'extras' if kind == 'extra' else 'dependency_groups'}"


def _not_in(item: tuple[str, NormalizedName]) -> str:
    kind, name = item
    return f"'{name}' not in {'extras' if kind == 'extra' else 'dependency_groups'}"


def _activators(
    roots: RootRequirements, fork: ForkSpec, resolution: Resolution, target: TargetSpec
) -> dict[NormalizedName, set[str]]:
    """For each resolved package, which roots reach it: "" (always), "extra:x", "group:g"."""
    sources: list[tuple[str, tuple[Requirement, ...]]] = [("", roots.base)]
    sources += [(f"extra:{e}", roots.extras.get(e, ())) for e in sorted(fork.extras)]
    sources += [(f"group:{g}", roots.groups.get(g, ())) for g in sorted(fork.groups)]
    reached: dict[NormalizedName, set[str]] = defaultdict(set)
    for label, reqs in sources:
        stack = [canonicalize_name(r.name) for r in reqs if target.env.evaluate(r.marker)]
        seen: set[NormalizedName] = set()
        while stack:
            name = stack.pop()
            if name in seen or name not in resolution.graph:
                continue
            seen.add(name)
            reached[name].add(label)
            stack.extend(resolution.graph[name])
    return reached


def resolve_universal(
    roots: RootRequirements,
    targets: Sequence[TargetSpec],
    forks: Sequence[ForkSpec],
    finder_for: FinderFor,
    *,
    constraints: Sequence[Requirement] = (),
    overrides: Sequence[Requirement] = (),
    preferences: Mapping[NormalizedName, Version] | None = None,
    required: Callable[[TargetSpec], bool] = lambda target: False,
) -> UniversalResolution:
    """Resolve every (target, fork) pair and merge the results.

    What cannot be resolved for one target (no wheels for Linux aarch64 on a CUDA index, or
    for macOS under a `cu124` extra) is recorded as unsupported there, with its reason, so
    that the lock serves every other target and installing on that one fails with the reason.
    The lock fails instead when a ``required`` target fails (`required-environments`) or
    when no target resolves at all (seed S6: nothing has wheels for the Python asked for).
    """
    unsupported: list[Unsupported] = []
    first_failure: tuple[TargetSpec, ForkSpec, ResolutionError] | None = None
    prefs: dict[NormalizedName, Version] = dict(preferences or {})
    # (name, version, index) -> {(target key, fork i): activators}
    seen: dict[tuple[NormalizedName, Version, str], dict[tuple[str, int], _Activators]] = (
        defaultdict(dict)
    )
    chosen: dict[tuple[NormalizedName, Version, str], DistFile] = {}
    deps: dict[tuple[NormalizedName, Version, str], set[NormalizedName]] = defaultdict(set)
    finders: dict[tuple[NormalizedName, Version, str], PackageFinder] = {}
    for target in targets:
        failures: list[tuple[ForkSpec, ResolutionError]] = []
        succeeded = False
        for i, fork in enumerate(forks):
            requirements = [*roots.base]
            for extra in sorted(fork.extras):
                requirements += roots.extras.get(extra, ())
            for group in sorted(fork.groups):
                requirements += roots.groups.get(group, ())
            finder = finder_for(target, fork)
            try:
                resolution = resolve(
                    requirements,
                    finder,
                    target.env,
                    constraints=constraints,
                    overrides=overrides,
                    preferences=prefs,
                )
            except ResolutionError as exc:
                failures.append((fork, exc))
                if first_failure is None:
                    first_failure = (target, fork, exc)
                continue
            succeeded = True
            reach = _activators(roots, fork, resolution, target)
            for cand in resolution.candidates:
                prefs.setdefault(cand.name, cand.version)
                key = (cand.name, cand.version, cand.file.index)
                seen[key][(target.key, i)] = frozenset(reach.get(cand.name, {""}))
                chosen.setdefault(key, cand.file)
                finders.setdefault(key, finder)
                deps[key].update(resolution.graph.get(cand.name, ()))
        if failures and required(target):
            failed_fork, error = failures[0]
            raise type(error)(
                f"{error.message} (while locking for {_where(target, failed_fork)})",
                causes=error.causes,
                hint=error.hint,
            ) from None
        if failures and not succeeded:
            failures = [(ForkSpec(), failures[0][1])]
        for failed_fork, error in failures:
            marker = _and(
                target.platform_marker, f"python_version == '{target.python[0]}.{target.python[1]}'"
            )
            unsupported.append(
                Unsupported(
                    Marker(_and(marker, failed_fork.condition) or ""),
                    f"{error.message} ({_where(target, failed_fork)})",
                )
            )
    if not seen and first_failure is not None:
        failed_target, failed_fork, error = first_failure
        raise type(error)(
            f"{error.message} (while locking for {_where(failed_target, failed_fork)}, "
            "and no other platform resolved either)",
            causes=error.causes,
            hint=error.hint,
        )
    entries = tuple(
        sorted(
            (
                _entry(key, seen, chosen[key], finders[key], deps[key], targets, forks)
                for key in seen
            ),
            key=lambda e: (e.name, e.version, str(e.marker)),
        )
    )
    return UniversalResolution(entries, tuple(unsupported))


def _where(target: TargetSpec, fork: ForkSpec) -> str:
    where = target.env.description
    if fork.extras or fork.groups:
        where += " with " + ", ".join(
            [f"extra `{e}`" for e in sorted(fork.extras)]
            + [f"group `{g}`" for g in sorted(fork.groups)]
        )
    return where


def _entry(
    key: tuple[NormalizedName, Version, str],
    seen: Mapping[tuple[NormalizedName, Version, str], Mapping[tuple[str, int], _Activators]],
    file: DistFile,
    finder: PackageFinder,
    deps: set[NormalizedName],
    targets: Sequence[TargetSpec],
    forks: Sequence[ForkSpec],
) -> UniversalEntry:
    name, version, index = key
    where = seen[key]
    # Does this package get the same version in every fork of a target? Then forks do not matter.
    others = {k: v for k, v in seen.items() if k[0] == name and k != key}
    clauses_by_target: dict[str, str | None] = {}
    for target in targets:
        hits = {i: acts for (tkey, i), acts in where.items() if tkey == target.key}
        if not hits:
            continue
        fork_specific = any(tkey == target.key for other in others.values() for (tkey, _) in other)
        per_fork: list[str | None] = []
        for i, acts in sorted(hits.items()):
            act = _activator_clause(acts)
            fork_cond = forks[i].condition if fork_specific else None
            per_fork.append(_and(fork_cond, act))
        clauses_by_target[target.key] = (
            None if None in per_fork else _or(sorted(set(c for c in per_fork if c)))
        )
    marker_text = _merge_targets(clauses_by_target, targets)
    files = _files_of(finder, name, version, index) or (file,)
    return UniversalEntry(
        name=name,
        version=version,
        marker=simplify(Marker(marker_text)) if marker_text else None,
        index=index,
        files=files,
        dependencies=tuple(sorted(deps - {name})),
        requires_python=file.requires_python,
    )


def _activator_clause(acts: _Activators) -> str | None:
    if "" in acts:
        return None
    parts = []
    for act in sorted(acts):
        kind, _, value = act.partition(":")
        parts.append(f"'{value}' in {'extras' if kind == 'extra' else 'dependency_groups'}")
    return _or(parts)


def _and(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return f"({a}) and ({b})"


def _or(parts: Sequence[str]) -> str | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" for p in parts)


def _merge_targets(clauses: Mapping[str, str | None], targets: Sequence[TargetSpec]) -> str | None:
    """Write the set of targets (with a clause each) as a short marker over platform and Python."""
    pythons = sorted({t.python for t in targets})
    # platform -> clause -> pythons
    by_platform: dict[str, dict[str | None, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    platform_marker: dict[str, str] = {}
    platform_os: dict[str, str] = {}
    for t in targets:
        platform_marker[t.platform] = t.platform_marker
        platform_os[t.platform] = t.sys_platform
        if t.key in clauses:
            by_platform[t.platform][clauses[t.key]].append(t.python)
    platforms = list(dict.fromkeys(t.platform for t in targets))
    # Collapse to (platform-set, python-set, clause) pieces.
    pieces: list[tuple[tuple[str, ...], tuple[tuple[int, int], ...], str | None]] = []
    for platform in platforms:
        for clause, versions in by_platform.get(platform, {}).items():
            pieces.append(((platform,), tuple(sorted(versions)), clause))
    merged: dict[tuple[tuple[tuple[int, int], ...], str | None], list[str]] = defaultdict(list)
    for plats, piece_pythons, clause in pieces:
        merged[(piece_pythons, clause)].extend(plats)
    terms: list[str | None] = []
    for (py_set, clause), members in merged.items():
        plat_text = _platforms_text(members, platforms, platform_marker, platform_os)
        py_text = _pythons_text(list(py_set), pythons)
        terms.append(_and(_and(plat_text, py_text), clause))
    if any(t is None for t in terms):
        return None
    return _or(sorted(t for t in terms if t))


def _pythons_text(chosen: list[tuple[int, int]], pythons: list[tuple[int, int]]) -> str | None:
    """A run of Python versions as open-ended bounds, so versions newer than the ones
    resolved for (say 3.14 for a lock made when 3.13 was newest) follow the newest run."""
    if chosen == pythons:
        return None
    start = pythons.index(chosen[0])
    if pythons[start : start + len(chosen)] != chosen:
        return _or([f"python_version == '{a}.{b}'" for a, b in chosen])
    bounds = []
    if start > 0:
        bounds.append(f"python_version >= '{chosen[0][0]}.{chosen[0][1]}'")
    end = start + len(chosen)
    if end < len(pythons):
        bounds.append(f"python_version < '{pythons[end][0]}.{pythons[end][1]}'")
    return " and ".join(bounds)


def _platforms_text(
    plats: list[str], all_platforms: list[str], marker: Mapping[str, str], os_of: Mapping[str, str]
) -> str | None:
    if set(plats) == set(all_platforms):
        return None
    parts: list[str] = []
    by_os: dict[str, list[str]] = defaultdict(list)
    for p in plats:
        by_os[os_of[p]].append(p)
    for os_name, members in by_os.items():
        everyone = [p for p in all_platforms if os_of[p] == os_name]
        if set(members) == set(everyone):
            parts.append(f"sys_platform == '{os_name}'")
        else:
            parts.extend(marker[p] for p in members)
    return _or(parts)


def _files_of(
    finder: PackageFinder, name: NormalizedName, version: Version, index: str
) -> tuple[DistFile, ...]:
    found = finder.find(name)
    if not isinstance(found, Found):
        return ()
    files = [
        f
        for f in found.files
        if f.index == index and f.name_version is not None and f.name_version[1] == version
    ]
    return tuple(sorted(files, key=lambda f: f.filename))
