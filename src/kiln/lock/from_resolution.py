"""A universal resolution as a lock: `kiln lock` and `kiln pip compile` write the same."""

from __future__ import annotations

from collections.abc import Mapping

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from kiln.core.dist import DistFile
from kiln.core.errors import ResolutionError
from kiln.core.records import record, replace
from kiln.lock.coverage import fails_everywhere, uncovered
from kiln.lock.model import (
    Lock,
    LockedArchive,
    LockedDependency,
    LockedDirectory,
    LockedFile,
    LockedPackage,
    LockedSource,
)
from kiln.net.redact import redact_url
from kiln.resolve.universal import UniversalResolution


@record
class LockScope:
    """What a lock says it was made for, beside its packages."""

    requires_python: SpecifierSet | None
    environments: tuple[Marker, ...] = ()
    extras: tuple[str, ...] = ()
    dependency_groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    torch_backends: tuple[str, ...] = ()
    torch_backend_request: str | None = None


def _locked_file(file: DistFile) -> LockedFile:
    return LockedFile(
        name=file.filename,
        url=redact_url(file.url),
        size=file.size,
        upload_time=file.upload_time,
        hashes=dict(file.hashes.items),
    )


def resolution_to_lock(
    scope: LockScope,
    result: UniversalResolution,
    inputs_hash: str,
    sources: Mapping[str, LockedSource] | None = None,
) -> Lock:
    """The lock of ``result``, with what the platform matrix cannot install recorded.

    ``sources`` maps the index label of each package taken from its own source (a path, URL,
    git or a workspace member) to what the lock records for it.

    Fails (seed S6) when the project alone installs on no machine of the matrix: such a
    lock would only move the error to every `kiln sync`.
    """
    packages = []
    directories = []
    for entry in result.entries:
        dependencies = tuple(LockedDependency(d) for d in entry.dependencies)
        source = (sources or {}).get(entry.index)
        if isinstance(source, LockedDirectory):
            directories.append(replace(source, marker=entry.marker, dependencies=dependencies))
            continue
        if source is not None:
            packages.append(
                LockedPackage(
                    name=entry.name,
                    version=entry.version,
                    marker=entry.marker,
                    index=None,
                    requires_python=None,
                    wheels=(),
                    sdist=None,
                    dependencies=dependencies,
                    archive=source if isinstance(source, LockedArchive) else None,
                    vcs=None if isinstance(source, LockedArchive) else source,
                )
            )
            continue
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
                dependencies=dependencies,
            )
        )
    lock = Lock(
        requires_python=scope.requires_python,
        environments=scope.environments,
        extras=scope.extras,
        dependency_groups=scope.dependency_groups,
        default_groups=scope.default_groups,
        packages=tuple(packages),
        fingerprint=inputs_hash,
        unsupported=tuple((u.marker, u.reason) for u in result.unsupported),
        resolution_markers=tuple(m for m in result.forks if m is not None),
        torch_backends=scope.torch_backends,
        torch_backend_request=scope.torch_backend_request,
        directories=tuple(directories),
    )
    found = uncovered(lock)
    if packages and found and fails_everywhere(lock, found):
        raise ResolutionError(
            "the project cannot be installed on any platform the lock serves",
            causes=tuple(reason for _, reason in found[:6]),
            hint="widen `requires-python`, or choose versions that publish wheels for it",
        )
    return replace(lock, unsupported=(*lock.unsupported, *found))
