"""Locked entries that come from their own source, made installable: source trees (the
project, path sources, workspace members) built by their backend, editable where the lock
says; git commits checked out and built; archives from a URL or a file taken as they are,
checked against the lock's hash.

What is installed already from the same source stays as it is. A first pass without a
finder only says whether anything must be built or fetched (a dry run, or the no-op check
of `kiln run`); the pass with one builds, before anything is installed, so a failing
backend leaves the environment as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from kiln.commands.context import CommandContext
from kiln.core.dist import Candidate, DistFile
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes, file_sha256
from kiln.core.records import field, record
from kiln.install.installed import InstalledDist
from kiln.lock.model import LockedDirectory, LockedPackage
from kiln.lock.select import Selected
from kiln.net.locations import path_to_url
from kiln.settings.build_settings import BuildSettings

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder

DirectUrls = Mapping[NormalizedName, Mapping[str, object]]


@record
class SourceInstalls:
    """The locked entries from their own sources, made installable, and those already in place."""

    candidates: tuple[Candidate, ...] = ()  # to install; placeholders when not built yet
    keep: frozenset[NormalizedName] = frozenset()  # installed from the same source already
    direct_urls: DirectUrls = field(default_factory=dict)  # the PEP 610 record of each
    needs_build: bool = False  # some candidate is a placeholder: build with a finder


@record
class SourceTarget:
    """The environment the lock's non-index entries are installed into."""

    ctx: CommandContext
    lock_root: Path  # locked paths are relative to it
    python: Path  # the interpreter of the environment being installed into
    installed: Sequence[InstalledDist]
    project_version: str | None = None  # the project's own, for its directory entry
    project_label: str | None = None
    build: BuildSettings = field(default_factory=BuildSettings)


def source_installs(
    target: SourceTarget,
    selected: Sequence[Selected],
    directories: Sequence[LockedDirectory],
    finder: IndexFinder | None,
    *,
    editable: bool = True,
) -> SourceInstalls:
    """``finder`` None: plan only (nothing built or fetched)."""
    candidates: list[Candidate] = []
    keep: set[NormalizedName] = set()
    urls: dict[NormalizedName, Mapping[str, object]] = {}
    pending = False
    for directory in directories:
        record, done = _directory(target, directory, finder, editable=editable)
        urls[directory.name] = record
        if done is None:
            keep.add(directory.name)
        else:
            candidates.append(done[0])
            pending = pending or done[1]
    for chosen in selected:
        package = chosen.package
        if package.archive is not None:
            candidate, record = _archive(target, package)
            candidates.append(candidate)
            urls[package.name] = record
        elif package.vcs is not None:
            record = _vcs_record(package)
            urls[package.name] = record
            if _same_vcs(target.installed, package):
                keep.add(package.name)
                continue
            candidates.append(_vcs(target, package, finder))
            pending = pending or finder is None
    return SourceInstalls(tuple(candidates), frozenset(keep), urls, pending)


# -- source trees -----------------------------------------------------------------------------


def _directory(
    target: SourceTarget,
    directory: LockedDirectory,
    finder: IndexFinder | None,
    *,
    editable: bool,
) -> tuple[Mapping[str, object], tuple[Candidate, bool] | None]:
    """Its PEP 610 record, and None when what is installed stays, else (candidate, planned)."""
    tree = (target.lock_root / directory.path).resolve()
    editable = editable and directory.editable
    url = path_to_url(tree)
    record: Mapping[str, object] = {
        "url": url,
        "dir_info": {"editable": True} if editable else {},
    }
    version = target.project_version if directory.is_project else _static_version(tree)
    # An editable install is the folder itself: only a new version asks for a build. A
    # non-editable one is rebuilt when its version changes (or with --reinstall).
    for dist in target.installed:
        same = dist.name == directory.name and dist.url == url and dist.editable == editable
        if same and (version is None or str(dist.version) == version):
            return record, None
    if finder is None:
        # Not built yet: a candidate that says what would be installed. Its URL is the tree,
        # which no install records as a file, so the plan never counts it as present.
        planned = Candidate(
            directory.name,
            _version(version),
            DistFile(filename=f"{directory.name}.whl", url=url + "/pyproject.toml"),
        )
        return record, (planned, True)
    label = (
        target.project_label
        if directory.is_project and target.project_label
        else f"{directory.name} (from `{directory.path}`)"
    )
    if not tree.is_dir():
        raise KilnError(
            f"the source of `{directory.name}` is missing: `{tree}`",
            causes=(f"the lock installs it from `{directory.path}`",),
            hint="restore the folder, or change its source and run `kiln lock`",
        )
    # The build frontend is loaded only when something is built: planning needs none.
    from kiln.commands.build_support import build_request, frontend

    request = build_request(
        tree, target.python, label=label or str(directory.name), name=directory.name,
        build=target.build,
    )  # fmt: skip
    wheel = frontend(target.ctx, finder).wheel(request, editable=editable)
    return record, (_built(directory.name, wheel, url), False)


def _built(name: NormalizedName, wheel: Path, origin: str) -> Candidate:
    _, version, _, _ = parse_wheel_filename(wheel.name)
    return Candidate(
        name,
        version,
        DistFile(
            filename=wheel.name,
            url=path_to_url(wheel),
            hashes=Hashes.of({"sha256": file_sha256(wheel)}),
            index=origin,
        ),
    )


def _static_version(tree: Path) -> str | None:
    from kiln.project.pyproject import load_pyproject

    manifest = tree / "pyproject.toml"
    if not manifest.is_file():
        return None
    try:
        return load_pyproject(manifest).version
    except KilnError:
        return None


def _version(text: str | None) -> Version:
    try:
        return Version(text) if text else Version("0")
    except InvalidVersion:
        return Version("0")


# -- archives ---------------------------------------------------------------------------------


def _archive(
    target: SourceTarget, package: LockedPackage
) -> tuple[Candidate, Mapping[str, object]]:
    archive = package.archive
    assert archive is not None
    if archive.url is not None:
        url = archive.url
    else:
        url = path_to_url((target.lock_root / (archive.path or "")).resolve())
    hashes = dict(archive.hashes)
    record: dict[str, object] = {"url": url, "archive_info": {"hashes": hashes}}
    if "sha256" in hashes:
        record["archive_info"] = {"hashes": hashes, "hash": f"sha256={hashes['sha256']}"}
    candidate = Candidate(
        package.name,
        package.version,
        DistFile(
            filename=archive.filename,
            url=url,
            hashes=Hashes.of(hashes),
            size=archive.size,
            index=url,
        ),
    )
    return candidate, record


# -- git --------------------------------------------------------------------------------------


def _vcs_record(package: LockedPackage) -> Mapping[str, object]:
    vcs = package.vcs
    assert vcs is not None
    info: dict[str, object] = {"vcs": vcs.type, "commit_id": vcs.commit_id}
    if vcs.requested_revision is not None:
        info["requested_revision"] = vcs.requested_revision
    record: dict[str, object] = {"url": vcs.url, "vcs_info": info}
    if vcs.subdirectory:
        record["subdirectory"] = vcs.subdirectory
    return record


def _same_vcs(installed: Sequence[InstalledDist], package: LockedPackage) -> bool:
    vcs = package.vcs
    assert vcs is not None
    for dist in installed:
        if dist.name != package.name or dist.url != vcs.url or dist.version != package.version:
            continue
        info = (dist.direct_url or {}).get("vcs_info")
        if isinstance(info, Mapping) and info.get("commit_id") == vcs.commit_id:
            return True
    return False


def _vcs(target: SourceTarget, package: LockedPackage, finder: IndexFinder | None) -> Candidate:
    vcs = package.vcs
    assert vcs is not None
    label = f"git+{vcs.url}@{vcs.commit_id}"
    if finder is None:
        return Candidate(
            package.name,
            package.version,
            DistFile(filename=f"{package.name}.whl", url=label, index=label),
        )
    from kiln.net.git import checkout

    tree = checkout(target.ctx.cache, vcs.url, vcs.commit_id).path
    if vcs.subdirectory:
        tree = tree / vcs.subdirectory
    # The build frontend is loaded only when something is built: planning needs none.
    from kiln.commands.build_support import build_request, frontend

    request = build_request(
        tree, target.python, label=f"{package.name} (from git)", name=package.name,
        build=target.build,
    )  # fmt: skip
    wheel = frontend(target.ctx, finder).wheel(request)
    built = _built(package.name, wheel, label)
    if built.version != package.version:
        raise KilnError(
            f"`{package.name}` at commit `{vcs.commit_id[:12]}` builds version "
            f"{built.version}, but the lock has {package.version}",
            hint="run `kiln lock` to lock it again",
        )
    return built
