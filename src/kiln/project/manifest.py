"""What a project asks the universal resolver: its roots, region, forks and pins, as one value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.markers import NEVER, intersect, requires_python_marker, union
from kiln.lock.from_resolution import LockScope
from kiln.project.pyproject import Pyproject
from kiln.project.source_rules import source_condition
from kiln.resolve.candidates import lower_bounds
from kiln.resolve.forks import ForkStrategy
from kiln.resolve.universal import Manifest, RootRequirements

# uv asks for `requires-python`; without one, the oldest CPython a lock is made for.
DEFAULT_REQUIRES_PYTHON = SpecifierSet(">=3.8")


def lock_region(
    requires_python: SpecifierSet | None, environments: Sequence[Marker] = ()
) -> Marker | None:
    """``requires-python`` read as uv reads it (its lower bounds), met with ``environments``."""
    region = requires_python_marker(lower_bounds(requires_python or DEFAULT_REQUIRES_PYTHON))
    if environments:
        joined: Marker | None = NEVER
        for marker in environments:
            joined = union(joined, marker)
        region = intersect(region, joined)
    return region


def _without_url(requirements: Sequence[Requirement]) -> tuple[Requirement, ...]:
    out = []
    for requirement in requirements:
        if requirement.url is not None:
            requirement = Requirement(str(requirement))
            requirement.url = None
        out.append(requirement)
    return tuple(out)


def project_roots(project: Pyproject) -> RootRequirements:
    # A direct reference is served by its source (`reference_sources`); the resolver sees
    # only the name, so every requirement on the package meets the same single candidate.
    return RootRequirements(
        base=_without_url(project.dependencies),
        extras={k: _without_url(v) for k, v in project.optional_dependencies.items()},
        groups={k: _without_url(v) for k, v in project.dependency_groups.items()},
    )


def project_manifest(
    project: Pyproject,
    preferences: Mapping[NormalizedName, tuple[tuple[Version, Marker | None], ...]],
    strategy: ForkStrategy | None = None,
    previous_forks: tuple[Marker, ...] = (),
) -> Manifest:
    conflicts = []
    for group in project.uv.conflicts:
        items: list[tuple[str, NormalizedName]] = []
        for item in group:
            if item.extra is not None:
                items.append(("extra", item.extra))
            elif item.group is not None:
                items.append(("group", item.group))
        conflicts.append(tuple(items))
    conditions = [
        condition
        for sources in project.uv.sources.values()
        for source in sources
        if (condition := source_condition(source)) is not None
    ]
    return Manifest(
        roots=project_roots(project),
        region=lock_region(project.requires_python, project.uv.environments),
        conflicts=tuple(conflicts),
        source_conditions=tuple(conditions),
        constraints=project.uv.constraint_dependencies,
        overrides=project.uv.override_dependencies,
        preferences=preferences,
        strategy=strategy or project.uv.fork_strategy or "requires-python",
        required=project.uv.required_environments,
        previous_forks=previous_forks,
    )


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
