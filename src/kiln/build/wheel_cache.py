"""Wheels and metadata the frontend built, kept so the same source is never built twice.

Entries live under ``builds-v1/wheels/<key>/`` and ``builds-v1/metadata/<key>``, where the key
covers what decides the output: the source, the interpreter the wheel is for, the
``config_settings``, the extra build requirements, isolation and editable-or-not.

The source part is the sha256 of an sdist file. A project folder has no such digest, and
reading every byte of it on each `sync` would cost more than most builds, so it is stamped
instead by its file list with each file's size and mtime (`tree_stamp`), plus its absolute
path, which editable wheels embed. Any edit changes a stamp, so an editable wheel is served
from here only while its tree is untouched, and never across an edit. Folders that a build or
a tool rewrites on its own (caches, virtual environments, build outputs) are left out, or the
stamp would change with every build; of a VCS folder only the refs count, so that a commit or
checkout, which moves the version setuptools-scm and hatch-vcs compute, is an edit too.

Every write is a rename of a complete file or folder, so an interrupted build leaves nothing
that a later lookup trusts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from kiln.cache import atomic
from kiln.cache.atomic import staged_dir
from kiln.core.build import BuildError, BuildRequest
from kiln.core.hashes import file_sha256
from kiln.python.interpreter import Interpreter

_CHUNK = 1 << 20
_SKIPPED_DIRS = frozenset(
    {"__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs"}
)
_TOP_LEVEL_OUTPUTS = frozenset({"build", "dist"})
_VCS_DIRS = frozenset({".git", ".hg", ".svn"})


def tree_stamp(tree: Path) -> str:
    """A digest of ``tree``'s file list, sizes and mtimes (see the module's docstring)."""
    digest = hashlib.sha256()
    root = str(tree)
    for folder, dirs, files in os.walk(tree):
        relative = os.path.relpath(folder, root)
        kept = []
        for name in sorted(dirs):
            path = os.path.join(folder, name)
            if name in _VCS_DIRS:
                _stamp_vcs_refs(Path(path), digest, root)
            elif not _skipped_dir(relative, name, path):
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            _stamp_file(os.path.join(folder, name), digest, root)
    return digest.hexdigest()


def _skipped_dir(relative: str, name: str, path: str) -> bool:
    if name in _SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    if relative == "." and name in _TOP_LEVEL_OUTPUTS:
        return True
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def _stamp_vcs_refs(vcs: Path, digest: hashlib._Hash, root: str) -> None:
    for name in ("HEAD", "packed-refs"):
        _stamp_file(str(vcs / name), digest, root, content=True)
    for folder, _dirs, files in os.walk(vcs / "refs"):
        for name in sorted(files):
            _stamp_file(os.path.join(folder, name), digest, root, content=True)


def _stamp_file(path: str, digest: hashlib._Hash, root: str, *, content: bool = False) -> None:
    try:
        stat = os.stat(path)
        extra = Path(path).read_bytes() if content else b""
    except OSError:
        return  # vanished while walking, or a dangling link: not part of what gets built
    entry = f"{os.path.relpath(path, root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
    digest.update(entry.encode("utf-8", "surrogateescape") + extra + b"\n")


def source_digest(request: BuildRequest) -> str:
    if request.is_sdist:
        try:
            return file_sha256(request.source)
        except OSError as exc:
            raise BuildError(
                f"cannot read `{request.source}`", causes=[exc.strerror or str(exc)]
            ) from None
    return tree_stamp(request.source)


def build_key(
    request: BuildRequest, target: Interpreter, source: str, *, editable: bool = False
) -> str:
    identity = {
        "source": source,
        "path": "" if request.is_sdist else str(request.source.resolve()),
        "editable": editable,
        # The most specific tag names the ABI and platform the wheel is compiled for.
        "python": [target.implementation, target.version_str, target.tags[:1]],
        "config_settings": sorted(request.config_settings.items()),
        "extra_build_requirements": sorted(request.extra_build_requirements),
        "isolation": request.isolation,
        # Without isolation the build sees whatever the target has installed.
        "target": "" if request.isolation else str(target.executable),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:40]


class BuiltWheels:
    """Lookups and atomic stores under ``builds-v1`` of one cache."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self._root = root
        self._scratch = scratch

    def wheel(self, key: str) -> Path | None:
        folder = self._root / "wheels" / key
        try:
            wheels = [p for p in folder.iterdir() if p.name.endswith(".whl")]
        except OSError:
            return None
        return wheels[0] if len(wheels) == 1 else None

    def store_wheel(self, key: str, built: Path) -> Path:
        """Move the wheel file ``built`` into the cache; the cached path (an existing copy wins)."""
        final = self._root / "wheels" / key
        with staged_dir(final, self._scratch) as staging:
            shutil.move(str(built), staging / built.name)
        stored = self.wheel(key)
        if stored is None:  # pragma: no cover - a foreign file in the entry
            raise OSError(f"cache entry `{final}` holds no single wheel")
        return stored

    def metadata(self, key: str) -> bytes | None:
        try:
            return (self._root / "metadata" / key).read_bytes()
        except OSError:
            return None

    def store_metadata(self, key: str, data: bytes) -> None:
        atomic.write_bytes(self._root / "metadata" / key, data)
