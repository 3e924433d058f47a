"""Packages a project takes from a path, a URL, git or its workspace rather than an index:
each fetched once, its metadata read (from the wheel, PKG-INFO or the backend), and handed
to the resolver as the package's only candidate.

A source never falls back to an index: one that cannot be had is an error naming the
package, the source and the file that sets it.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName

from kiln.commands.build_support import build_request, frontend
from kiln.commands.context import CommandContext
from kiln.core.build import SDIST_SUFFIXES, BuildRequest
from kiln.core.dist import DistFile
from kiln.core.errors import KilnError
from kiln.core.hashes import Hashes, file_sha256
from kiln.core.metadata import CoreMetadata
from kiln.core.once import Once
from kiln.core.records import record
from kiln.lock.model import LockedArchive, LockedDirectory, LockedSource, LockedVcs
from kiln.net.locations import path_to_url
from kiln.net.redact import redact_url, strip_userinfo
from kiln.project.references import git_source
from kiln.project.source_rules import SourceOrigin
from kiln.project.uv_tables import Source
from kiln.settings.build_settings import BuildSettings

if TYPE_CHECKING:
    from kiln.index.finder import IndexFinder
    from kiln.python.interpreter import Interpreter


class SourceError(KilnError):
    """A `[tool.uv.sources]` entry (or a direct reference) that cannot be served."""


@record
class DirectDist:
    """One package from its source, as the resolver and the lock see it."""

    name: NormalizedName
    file: DistFile  # the resolver's one candidate file; ``file.index`` is ``label``
    metadata: CoreMetadata
    locked: LockedSource  # written to the lock; marker and dependencies come later

    @property
    def label(self) -> str:
        return self.file.index


class SourceDists:
    """Fetches sources for one lock; each (package, source) once."""

    def __init__(
        self,
        ctx: CommandContext,
        finder: IndexFinder,
        python: Callable[[], Interpreter],
        members: Mapping[NormalizedName, Path] | None = None,
        build: BuildSettings | None = None,
    ) -> None:
        self._build = build or BuildSettings()
        self._ctx = ctx
        self._finder = finder
        self._python = python
        self._members = dict(members or {})
        # The solver and the look-ahead threads of several regions ask for one source at
        # once: it is cloned and its metadata built once.
        self._done = Once()

    def dist(self, name: NormalizedName, source: Source, origin: SourceOrigin) -> DirectDist:
        key = (name, repr((source, origin.root)))
        return self._done.get(key, lambda: self._fetch(name, source, origin))

    def identify(self, source: Source, origin: SourceOrigin, shown: str) -> DirectDist:
        """The package at ``source``, whatever its name (`kiln add ../lib`); ``shown`` is
        how the user wrote the source, for messages."""
        return self._fetch(NormalizedName(""), source, origin, where=f"`{shown}`")

    def _fetch(
        self, name: NormalizedName, source: Source, origin: SourceOrigin, where: str = ""
    ) -> DirectDist:
        where = where or f"`tool.uv.sources.{name}` in `{origin.path}`"
        if source.git is not None:
            return self._git(name, source, origin, where)
        if source.url is not None:
            return self._url(name, source, origin, where)
        if source.path is not None:
            path = (origin.root / source.path).resolve()
            return self._path(name, path, source.editable, origin, where, source.path)
        member = self._members.get(name)
        if member is None:
            raise SourceError(
                f"`{name}` is declared a workspace member, but no member of the workspace is "
                f"named `{name}`",
                causes=(f"{where} sets `workspace = true`",),
                hint="add its folder to `[tool.uv.workspace] members`, or fix the name",
            )
        editable = True if source.editable is None else source.editable
        return self._path(name, member, editable, origin, where, None)

    # -- kinds ------------------------------------------------------------------------------

    def _path(
        self,
        name: NormalizedName,
        path: Path,
        editable: bool | None,
        origin: SourceOrigin,
        where: str,
        written: str | None,
    ) -> DirectDist:
        shown = written or str(path)
        if not path.exists():
            raise SourceError(
                f"the path source of {_who(name)} does not exist: `{shown}`",
                causes=(f"{where} points at `{path}`",),
                hint="fix the path (it is relative to the folder of that pyproject.toml)",
            )
        relative = _relative(path, origin.lock_root)
        if path.is_dir():
            if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
                raise SourceError(
                    f"the path source of {_who(name)} is a folder with no `pyproject.toml` or "
                    f"`setup.py`: `{shown}`",
                    causes=(f"{where} points at `{path}`",),
                    hint="point it at a project folder, a wheel or an sdist",
                )
            metadata = self._built_metadata(BuildRequest(path, self._python().executable), name)
            self._check_name(name, metadata, where)
            name = metadata.name
            label = f"path:{relative}"
            return DirectDist(
                name,
                self._tree_file(name, metadata, path_to_url(path), label),
                metadata,
                LockedDirectory(name, relative, editable=bool(editable)),
            )
        if editable:
            raise SourceError(
                f"{_who(name)} cannot be installed editable from a file: `{shown}`",
                causes=(f"{where} sets `editable = true`",),
                hint="point it at the project's folder, or drop `editable`",
            )
        sha256 = file_sha256(path)
        locked = LockedArchive(
            url=None, path=relative, hashes={"sha256": sha256}, size=path.stat().st_size
        )
        file = DistFile(
            filename=path.name,
            url=path_to_url(path),
            hashes=Hashes.of({"sha256": sha256}),
            index=f"path:{relative}",
            size=locked.size,
        )
        metadata = self._archive_metadata(name, path, where)
        return DirectDist(metadata.name, _with_python(file, metadata), metadata, locked)

    def _url(
        self, name: NormalizedName, source: Source, origin: SourceOrigin, where: str
    ) -> DirectDist:
        url = source.url or ""
        filename = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
        if not (filename.endswith(".whl") or filename.endswith(SDIST_SUFFIXES)):
            raise SourceError(
                f"the URL source of {_who(name)} is not a wheel or an sdist: `{redact_url(url)}`",
                causes=(f"{where} sets `url`",),
                hint="point it at a `.whl`, `.tar.gz` or `.zip` file",
            )
        if source.subdirectory is not None:
            raise SourceError(
                f"`subdirectory` of a URL source is not supported ({_who(name)})",
                causes=(f"{where} sets `subdirectory = {source.subdirectory!r}`",),
                hint="point the URL at a wheel or sdist of the package itself",
            )
        folder = self._ctx.cache.bucket("sources") / "url" / _digest(strip_userinfo(url))
        folder.mkdir(parents=True, exist_ok=True)
        archive = folder / filename
        # Downloaded again for each lock: a URL's content may change, and the lock must hold
        # the hash of what it serves now.
        sha256 = self._ctx.client.download(url, archive, hashes=Hashes())
        size = archive.stat().st_size
        locked = LockedArchive(
            url=strip_userinfo(url), path=None, hashes={"sha256": sha256}, size=size
        )
        file = DistFile(
            filename=filename,
            url=url,
            hashes=Hashes.of({"sha256": sha256}),
            index=strip_userinfo(url),
            size=size,
        )
        metadata = self._archive_metadata(name, archive, where)
        return DirectDist(metadata.name, _with_python(file, metadata), metadata, locked)

    def _git(
        self, name: NormalizedName, source: Source, origin: SourceOrigin, where: str
    ) -> DirectDist:
        from kiln.net.git import checkout, resolve_revision

        url = git_repository(source.git or "")
        commit = resolve_revision(self._ctx.cache, url, source.rev)
        tree = checkout(self._ctx.cache, url, commit).path
        if source.subdirectory:
            tree = tree / source.subdirectory
            if not tree.is_dir():
                raise SourceError(
                    f"`{source.subdirectory}` is not a folder of `{redact_url(url)}` at "
                    f"`{commit[:12]}`",
                    causes=(f"{where} sets `subdirectory`",),
                    hint="fix `subdirectory`",
                )
        request = BuildRequest(
            tree, self._python().executable, label=f"{name or redact_url(url)} (from git)"
        )
        metadata = self._built_metadata(request, name)
        self._check_name(name, metadata, where)
        name = metadata.name
        label = f"git+{strip_userinfo(url)}@{commit}"
        return DirectDist(
            name,
            self._tree_file(name, metadata, label, label),
            metadata,
            LockedVcs(
                url=strip_userinfo(url),
                commit_id=commit,
                requested_revision=source.rev,
                subdirectory=source.subdirectory,
            ),
        )

    # -- metadata ---------------------------------------------------------------------------

    def _built_metadata(self, request: BuildRequest, name: NormalizedName) -> CoreMetadata:
        label = request.label or (str(name) if name else str(request.source))
        request = build_request(
            request.source, request.python, label=label, name=name or None, build=self._build
        )
        return frontend(self._ctx, self._finder).metadata(request)

    def _archive_metadata(self, name: NormalizedName, archive: Path, where: str) -> CoreMetadata:
        if archive.name.endswith(".whl"):
            metadata = _wheel_metadata(archive, name, where)
        else:
            request = BuildRequest(archive, self._python().executable, label=archive.name)
            metadata = self._built_metadata(request, name)
        self._check_name(name, metadata, where)
        return metadata

    def _check_name(self, name: NormalizedName, metadata: CoreMetadata, where: str) -> None:
        if name and metadata.name != name:
            raise SourceError(
                f"the source of `{name}` is the package `{metadata.name}`",
                causes=(f"{where} points at it",),
                hint=f"point the source at `{name}`, or require `{metadata.name}` instead",
            )

    @staticmethod
    def _tree_file(name: NormalizedName, metadata: CoreMetadata, url: str, label: str) -> DistFile:
        # The resolver weighs files by name: a source tree stands as an sdist of the version
        # its backend reports, which it then "builds" by asking this finder for metadata.
        file = DistFile(filename=f"{name}-{metadata.version}.tar.gz", url=url, index=label)
        return _with_python(file, metadata)


def git_repository(url: str) -> str:
    """The repository URL of a `git = …` source: `git+` and any `@rev` in it taken off."""
    return (git_source(url).git or url).removeprefix("git+")


def _with_python(file: DistFile, metadata: CoreMetadata) -> DistFile:
    if metadata.requires_python is None:
        return file
    from kiln.core.records import replace

    return replace(file, requires_python=str(metadata.requires_python))


def _wheel_metadata(wheel: Path, name: NormalizedName, where: str) -> CoreMetadata:
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [
                n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise SourceError(
                    f"the wheel `{wheel.name}` for {_who(name)} has no single `.dist-info/METADATA`",
                    causes=(f"{where} points at it",),
                )
            data = zf.read(names[0])
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(
            f"the wheel `{wheel.name}` for {_who(name)} cannot be read", causes=(str(exc),)
        ) from None
    return CoreMetadata.parse(data, origin=f"{wheel.name}: METADATA")


def _who(name: NormalizedName) -> str:
    return f"`{name}`" if name else "the package"


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]
