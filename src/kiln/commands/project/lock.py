"""`kiln lock`: resolve the project for every platform, Python and extra into `pylock.toml`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.cache.atomic import write_text
from kiln.commands.context import CommandContext
from kiln.commands.project.targets import (
    lock_targets,
    project_forks,
    project_roots,
    required,
)
from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.core.protocols import PackageFinder
from kiln.lock.fingerprint import fingerprint
from kiln.lock.model import Lock, LockedDependency, LockedFile, LockedPackage
from kiln.lock.pylock_toml import dump_lock, load_lock
from kiln.net.redact import redact_url
from kiln.project.pyproject import Pyproject, find_project, load_pyproject
from kiln.resolve.universal import (
    ForkSpec,
    TargetSpec,
    UniversalResolution,
    resolve_universal,
)
from kiln.settings.index_settings import IndexSettings, project_indexes
from kiln.settings.sources import pins_for

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder

LOCK_NAME = "pylock.toml"


class LockOutdated(KilnError):
    """`--locked` / `--check`: the lock does not match pyproject.toml."""

    exit_code = 1


@dataclass(frozen=True)
class LockResult:
    project: Pyproject
    lock: Lock
    path: Path
    changed: bool
    packages: int
    seconds: float
    warnings: tuple[str, ...]


def discover(project_dir: Path | None) -> Pyproject:
    start = (project_dir or Path.cwd()).resolve()
    path = find_project(start)
    if path is None:
        raise KilnError(
            f"no `pyproject.toml` found in `{start}` or any parent folder",
            hint="run `kiln init` to create a project, or pass `--project DIR`",
        )
    return load_pyproject(path)


def lock_inputs(project: Pyproject, indexes: IndexSettings) -> Mapping[str, object]:
    """Everything that changes what the lock should hold; its hash is the fingerprint."""
    return {
        "requires-python": str(project.requires_python or ""),
        "dependencies": sorted(str(r) for r in project.dependencies),
        "optional-dependencies": {
            k: sorted(map(str, v)) for k, v in project.optional_dependencies.items()
        },
        "dependency-groups": {k: sorted(map(str, v)) for k, v in project.dependency_groups.items()},
        "sources": {
            name: [repr(s) for s in sources] for name, sources in sorted(project.uv.sources.items())
        },
        "indexes": [repr(i) for i in indexes.indexes],
        "find-links": list(indexes.find_links),
        "strategy": indexes.strategy,
        "exclude-newer": indexes.exclude_newer.isoformat() if indexes.exclude_newer else "",
        "conflicts": [[repr(i) for i in g] for g in project.uv.conflicts],
        "environments": [str(m) for m in project.uv.environments],
        "required-environments": [str(m) for m in project.uv.required_environments],
        "constraints": sorted(str(r) for r in project.uv.constraint_dependencies),
        "overrides": sorted(str(r) for r in project.uv.override_dependencies),
    }


def existing_lock(path: Path) -> Lock | None:
    if not path.exists():
        return None
    return load_lock(path.read_text(encoding="utf-8"), path)


def _locked_file(file: DistFile) -> LockedFile:
    return LockedFile(
        name=file.filename,
        url=redact_url(file.url),
        size=file.size,
        upload_time=file.upload_time,
        hashes=dict(file.hashes.items),
    )


@dataclass(frozen=True)
class LockScope:
    """What a lock says it was made for, beside its packages."""

    requires_python: SpecifierSet | None
    environments: tuple[Marker, ...] = ()
    extras: tuple[str, ...] = ()
    dependency_groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()


def project_scope(project: Pyproject) -> LockScope:
    groups = tuple(sorted(project.dependency_groups))
    default_groups = (
        groups
        if project.uv.default_groups == "all"
        else tuple(g for g in project.uv.default_groups if g in groups)
    )
    return LockScope(
        requires_python=project.requires_python,
        environments=tuple(project.uv.environments),
        extras=tuple(sorted(project.optional_dependencies)),
        dependency_groups=groups,
        default_groups=default_groups,
    )


def resolution_to_lock(scope: LockScope, result: UniversalResolution, inputs_hash: str) -> Lock:
    """A universal resolution as a lock: `kiln lock` and `kiln pip compile` write the same."""
    packages = []
    for entry in result.entries:
        wheels = tuple(_locked_file(f) for f in entry.files if f.is_wheel)
        sdists = [f for f in entry.files if not f.is_wheel]
        packages.append(
            LockedPackage(
                name=entry.name,
                version=entry.version,
                marker=entry.marker,
                index=redact_url(entry.index) if entry.index else None,
                requires_python=None,
                wheels=tuple(sorted(wheels, key=lambda w: w.name)),
                sdist=_locked_file(sdists[0]) if sdists else None,
                dependencies=tuple(LockedDependency(d) for d in entry.dependencies),
            )
        )
    return Lock(
        requires_python=scope.requires_python,
        environments=scope.environments,
        extras=scope.extras,
        dependency_groups=scope.dependency_groups,
        default_groups=scope.default_groups,
        packages=tuple(sorted(packages, key=lambda p: (p.name, p.version, str(p.marker)))),
        fingerprint=inputs_hash,
        unsupported=tuple((u.marker, u.reason) for u in result.unsupported),
    )


def to_lock(project: Pyproject, result: UniversalResolution, inputs_hash: str) -> Lock:
    return resolution_to_lock(project_scope(project), result, inputs_hash)


def lock_project(
    ctx: CommandContext,
    project_dir: Path | None,
    index_args: object,
    *,
    check: bool = False,
    upgrade: bool = False,
    upgrade_packages: frozenset[NormalizedName] = frozenset(),
) -> LockResult:
    started = time.perf_counter()
    project = discover(project_dir)
    path = project.root / LOCK_NAME
    indexes = project_indexes(index_args, project.uv)
    inputs_hash = fingerprint(lock_inputs(project, indexes))
    previous = existing_lock(path)
    if check:
        if previous is None:
            raise LockOutdated(f"`{path}` does not exist", hint="run `kiln lock` to create it")
        if previous.fingerprint != inputs_hash:
            raise LockOutdated(
                f"`{path}` is out of date with `{project.path}`",
                hint="run `kiln lock` to update it",
            )
    if check or (
        previous is not None
        and previous.fingerprint == inputs_hash
        and not (upgrade or upgrade_packages)
    ):
        # Nothing the lock was made from has changed: it stands as it is, without a request.
        assert previous is not None
        return LockResult(
            project,
            previous,
            path,
            False,
            len(previous.packages),
            time.perf_counter() - started,
            project.warnings,
        )

    preferences: dict[NormalizedName, Version] = {}
    if previous is not None and not upgrade:
        for package in previous.packages:
            if package.name not in upgrade_packages:
                preferences.setdefault(package.name, package.version)

    base = indexes.finder(ctx.client, ctx.cache)
    # One view per set of pins; views share pages, metadata and connections with ``base``.
    finders: dict[tuple[tuple[str, str], ...], IndexFinder] = {}

    def finder_for(target: TargetSpec, fork: ForkSpec) -> PackageFinder:
        pins = pins_for(project.uv.sources, target.env, fork.extras, fork.groups)
        key = tuple(sorted(pins.items()))
        if key not in finders:
            finders[key] = base.with_pins(pins)
        return finders[key]

    try:
        result = resolve_universal(
            project_roots(project),
            lock_targets(project),
            project_forks(project),
            finder_for,
            constraints=project.uv.constraint_dependencies,
            overrides=project.uv.override_dependencies,
            preferences=preferences,
            required=lambda target: required(project, target),
        )
    finally:
        base.close()
        for finder in finders.values():
            finder.close()
    lock = to_lock(project, result, inputs_hash)
    text = dump_lock(lock)
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        write_text(path, text)
    warnings = (*project.warnings, *(f"{reason}" for _, reason in lock.unsupported))
    return LockResult(
        project, lock, path, changed, len(lock.packages), time.perf_counter() - started, warnings
    )
