"""What a project's lock is resolved for: platforms x Pythons, forks of conflicting extras."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from kiln.project.pyproject import Pyproject
from kiln.python.platforms import DEFAULT_PLATFORMS, lock_pythons, platform_environment
from kiln.resolve.universal import ForkSpec, RootRequirements, TargetSpec, forks_for


def lock_targets(project: Pyproject) -> list[TargetSpec]:
    """Every default platform at every Python ``requires-python`` admits, narrowed by
    ``tool.uv.environments`` when it is set."""
    return universal_targets(project.requires_python, project.uv.environments)


def universal_targets(
    requires_python: SpecifierSet | None, environments: Sequence[Marker] = ()
) -> list[TargetSpec]:
    """Every default platform at every Python ``requires_python`` admits, narrowed by
    ``environments`` when given: what `kiln lock` and `kiln pip compile --universal` resolve for."""
    pythons = lock_pythons(requires_python)
    floor = pythons[0] if pythons else None
    targets: list[TargetSpec] = []
    for platform in DEFAULT_PLATFORMS:
        for python in pythons:
            env = platform_environment(platform, python, floor)
            if environments and not any(
                marker.evaluate(dict(env.markers)) for marker in environments
            ):
                continue
            targets.append(
                TargetSpec(platform.key, str(platform.marker), platform.sys_platform, python, env)
            )
    return targets


def required(project: Pyproject, target: TargetSpec) -> bool:
    return any(m.evaluate(dict(target.env.markers)) for m in project.uv.required_environments)


def project_forks(project: Pyproject) -> list[ForkSpec]:
    conflicts: list[list[tuple[str, NormalizedName]]] = []
    for group in project.uv.conflicts:
        items: list[tuple[str, NormalizedName]] = []
        for item in group:
            if item.extra is not None:
                items.append(("extra", item.extra))
            elif item.group is not None:
                items.append(("group", item.group))
        conflicts.append(items)
    return forks_for(
        conflicts, sorted(project.optional_dependencies), sorted(project.dependency_groups)
    )


def project_roots(project: Pyproject) -> RootRequirements:
    return RootRequirements(
        base=project.dependencies,
        extras=dict(project.optional_dependencies),
        groups=dict(project.dependency_groups),
    )
