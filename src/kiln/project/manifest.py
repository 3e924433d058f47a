"""What a project asks the universal resolver: its roots, region, forks and pins, as one value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.errors import KilnError
from kiln.core.markers import NEVER, intersect, requires_python_marker, union
from kiln.lock.from_resolution import LockScope
from kiln.project.pyproject import Pyproject
from kiln.project.uv_tables import Source
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


def source_condition(source: Source) -> Marker | None:
    """Where a `[tool.uv.sources]` entry applies: its marker, extra and group together."""
    parts = [f"({source.marker})"] if source.marker is not None else []
    if source.extra is not None:
        parts.append(f"'{source.extra}' in extras")
    if source.group is not None:
        parts.append(f"'{source.group}' in dependency_groups")
    return Marker(" and ".join(parts)) if parts else None


class DirectReferenceError(KilnError):
    """A `name @ URL` requirement kiln cannot serve, or one that contradicts a source."""


def _every_requirement(project: Pyproject) -> list[Requirement]:
    return [
        *project.dependencies,
        *(r for rs in project.optional_dependencies.values() for r in rs),
        *(r for rs in project.dependency_groups.values() for r in rs),
    ]


def reference_source(requirement: Requirement, where: Path) -> Source:
    """The `[tool.uv.sources]` entry a PEP 508 direct reference (`name @ URL`) stands for."""
    url = requirement.url or ""
    split = urlsplit(url)
    fragment = dict(p.split("=", 1) for p in split.fragment.split("&") if "=" in p)
    subdirectory = fragment.get("subdirectory")
    if split.scheme.startswith("git+"):
        return git_source(url)
    if split.scheme == "file":
        return Source(path=unquote(split.path))
    if split.scheme in ("http", "https"):
        return Source(url=url.split("#", 1)[0], subdirectory=subdirectory)
    raise DirectReferenceError(
        f"`{requirement}` points at a URL kiln cannot fetch (`{split.scheme or url}`)",
        causes=(f"`{where}` requires it",),
        hint="use an `https://` URL, a `git+https://` URL or a `file://` path",
    )


def git_source(url: str) -> Source:
    """`git+https://host/repo@rev#subdirectory=sub` as a git source."""
    split = urlsplit(url)
    fragment = dict(p.split("=", 1) for p in split.fragment.split("&") if "=" in p)
    repository, rev = url.split("#", 1)[0], None
    # An `@` in the path (not in `user@host`) starts the revision. Cut as text: rebuilding
    # the URL would turn `git+file:///x` into `git+file:/x`.
    authority = repository.find("://")
    path_start = repository.find("/", authority + 3 if authority >= 0 else 0)
    if path_start >= 0 and "@" in repository[path_start:]:
        repository, _, rev = repository.rpartition("@")
    return Source(git=repository, rev=rev, subdirectory=fragment.get("subdirectory"))


def reference_sources(project: Pyproject) -> dict[NormalizedName, tuple[Source, ...]]:
    """The sources the project's `name @ URL` requirements declare, as uv reads them."""
    out: dict[NormalizedName, tuple[Source, ...]] = {}
    for requirement in _every_requirement(project):
        if requirement.url is None:
            continue
        name = canonicalize_name(requirement.name)
        source = reference_source(requirement, project.path)
        if name in project.uv.sources:
            raise DirectReferenceError(
                f"`{requirement}` points at a URL, and `tool.uv.sources.{name}` gives `{name}` "
                "another source",
                causes=(f"`{project.path}` declares both",),
                hint="keep one of them",
            )
        if name in out and out[name] != (source,):
            raise DirectReferenceError(
                f"`{name}` is required from two different URLs",
                causes=(f"`{project.path}` requires `{requirement}`",),
                hint="require it from one URL everywhere",
            )
        out[name] = (source,)
    return out


def _without_url(requirements: Sequence[Requirement]) -> tuple[Requirement, ...]:
    out = []
    for requirement in requirements:
        if requirement.url is not None:
            requirement = Requirement(str(requirement))
            requirement.url = None
        out.append(requirement)
    return tuple(out)


def is_packaged(project: Pyproject) -> bool:
    """Whether the project itself is installed into its environment, as uv decides:
    `tool.uv.package` when set, else whether it declares a `[build-system]`."""
    if project.uv.package is not None:
        return bool(project.uv.package)
    return project.build_system is not None


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
