"""The lock as values: what `kiln lock` resolved, for every environment at once (PEP 751).

Each value puts itself in canonical order when built (packages by name, version and marker;
wheels by file name; names of extras and groups sorted), so two locks with the same content
are equal and write the same bytes whatever order the resolver produced them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from kiln.core.records import field, record

__all__ = [
    "Lock",
    "LockedArchive",
    "LockedDependency",
    "LockedDirectory",
    "LockedFile",
    "LockedPackage",
    "LockedSource",
    "LockedVcs",
    "torch_backend_group",
]


def torch_backend_group(backend: str) -> NormalizedName:
    """The dependency group under which a lock carries one PyTorch backend's builds."""
    return canonicalize_name(f"torch-backend-{backend}")


@record
class LockedFile:
    """A wheel or an sdist of a locked version."""

    name: str  # the file name
    url: str  # never with userinfo: a lock is shared, credentials are not
    size: int | None
    upload_time: datetime | None
    hashes: Mapping[str, str]  # at least sha256 when the index gave one

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", dict(sorted(self.hashes.items())))


@record
class LockedDependency:
    """One dependency edge of a locked package."""

    name: NormalizedName
    marker: Marker | None = None


@record
class LockedArchive:
    """A wheel or sdist taken from a URL or a file rather than an index (PEP 751
    `packages.archive`): a `url` or `[tool.uv.sources]` `path` to a file."""

    url: str | None  # exactly one of url and path
    path: str | None  # relative to the lock's folder, with `/`
    hashes: Mapping[str, str]
    size: int | None = None
    subdirectory: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", dict(sorted(self.hashes.items())))

    @property
    def filename(self) -> str:
        return (self.url or self.path or "").split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@record
class LockedVcs:
    """A git repository at one commit (PEP 751 `packages.vcs`)."""

    url: str  # the repository, without `git+` or a revision
    commit_id: str
    requested_revision: str | None = None
    subdirectory: str | None = None
    type: str = "git"


@record
class LockedPackage:
    """One package entry of the lock."""

    name: NormalizedName
    version: Version
    marker: Marker | None  # where this entry applies; may use `extras` / `dependency_groups`
    index: str | None  # the index URL it came from
    requires_python: SpecifierSet | None
    wheels: tuple[LockedFile, ...]  # every wheel of this version on that index
    sdist: LockedFile | None
    dependencies: tuple[LockedDependency, ...]
    # Not from an index: then ``index`` is None and there are no wheels or sdist.
    archive: LockedArchive | None = None
    vcs: LockedVcs | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "wheels", tuple(sorted(self.wheels, key=lambda w: w.name)))
        deps = sorted(set(self.dependencies), key=lambda d: (d.name, str(d.marker or "")))
        object.__setattr__(self, "dependencies", tuple(deps))

    @property
    def sort_key(self) -> tuple[NormalizedName, Version, str]:
        return (self.name, self.version, str(self.marker))


@record
class LockedDirectory:
    """A source tree the lock installs by building it (PEP 751 `packages.directory`): the
    project itself, a path source or a workspace member. It has no version: the tree's
    version is whatever its backend says when it is built."""

    name: NormalizedName
    path: str  # relative to the lock's folder, with `/`
    editable: bool = True
    marker: Marker | None = None
    dependencies: tuple[LockedDependency, ...] = ()

    def __post_init__(self) -> None:
        deps = sorted(set(self.dependencies), key=lambda d: (d.name, str(d.marker or "")))
        object.__setattr__(self, "dependencies", tuple(deps))

    @property
    def is_project(self) -> bool:
        """The lock's own folder: the project the lock was made for."""
        return self.path in (".", "")


# What a package locked from its own source rather than an index is locked as.
LockedSource = LockedDirectory | LockedArchive | LockedVcs


@record
class Lock:
    """A whole lock file, as kiln reads and writes it."""

    requires_python: SpecifierSet | None
    environments: tuple[Marker, ...]  # what the lock was resolved for; empty: everywhere
    extras: tuple[str, ...]
    dependency_groups: tuple[str, ...]
    default_groups: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    fingerprint: str  # [tool.kiln] input-fingerprint: the hash of what the lock was made from
    created_by: str = "kiln"
    # Regions the lock knowingly cannot serve, each with the reason to show there.
    unsupported: tuple[tuple[Marker, str], ...] = field(default=())
    # The regions the resolution was solved in when it forked (uv's `resolution-markers`):
    # a relock starts from them, so forks that only a chosen version caused are kept.
    resolution_markers: tuple[Marker, ...] = field(default=())
    # PyTorch backends the lock carries (`cpu`, `cu126`…), each under `torch_backend_group`.
    torch_backends: tuple[str, ...] = field(default=())
    # What the lock was asked to carry (`auto`, `cpu,cu124`): kept while the project is
    # unchanged, so the verbs that install do not relock to another set.
    torch_backend_request: str | None = None
    directories: tuple[LockedDirectory, ...] = field(default=())

    @property
    def project_directory(self) -> LockedDirectory | None:
        return next((d for d in self.directories if d.is_project), None)

    @property
    def torch_backend_groups(self) -> tuple[NormalizedName, ...]:
        return tuple(torch_backend_group(b) for b in self.torch_backends)

    def __post_init__(self) -> None:
        object.__setattr__(self, "packages", tuple(sorted(self.packages, key=_package_key)))
        for name in ("extras", "dependency_groups", "default_groups"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        directories = sorted(self.directories, key=lambda d: (d.name, d.path, str(d.marker)))
        object.__setattr__(self, "directories", tuple(directories))


def _package_key(package: LockedPackage) -> tuple[NormalizedName, Version, str]:
    return package.sort_key
