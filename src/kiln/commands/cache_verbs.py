"""`kiln cache dir`, `clean` and `prune`: show the cache, or remove all, some or unused entries.

Entries a concurrent kiln is writing are left alone: a wheel folder or a build is removed
only while holding the lock its writer takes, and scratch folders and partial files count as
in use while something in them changed within the last `SCRATCH_GRACE_S` seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from kiln.cache.layout import Cache
from kiln.cache.locks import file_lock
from kiln.commands.context import CommandContext
from kiln.core.errors import KilnError
from kiln.core.records import field, record

SCRATCH_GRACE_S = 600.0
# Taken by `clean` and `prune` so that two of them never remove the same tree at once.
_CACHE_LOCK = ".lock"
_BUCKET = re.compile(r"^(?P<name>[a-z]+)-v(?P<version>\d+)$")
_CURRENT_VERSION = "1"
# Left behind by `atomic.write_bytes` and by downloads when a process died mid-write.
_PARTIAL = re.compile(r"^\..+\.[a-z0-9_]+\.(tmp|part)$", re.I)
_KEEP_AT_ROOT = {_CACHE_LOCK, "CACHEDIR.TAG"}


@record(frozen=False)
class Removal:
    """What was removed: files, folders and the disk space the files took."""

    files: int = 0
    dirs: int = 0
    bytes: int = 0
    paths: list[Path] = field(default_factory=list)

    def add(self, other: Removal) -> None:
        self.files += other.files
        self.dirs += other.dirs
        self.bytes += other.bytes
        self.paths.extend(other.paths)


@record
class CacheCleanRequest:
    """What `kiln cache clean` was asked to remove; empty: everything."""

    packages: tuple[str, ...] = ()


@record
class CacheResult:
    """The cache folder a cache verb acted on and what it removed."""

    root: Path
    exists: bool
    removal: Removal


def cache_dir(ctx: CommandContext) -> Path:
    return ctx.cache.root


def cache_clean(ctx: CommandContext, request: CacheCleanRequest) -> CacheResult:
    root = ctx.cache.root
    if not root.is_dir():
        return CacheResult(root, False, Removal())
    with file_lock(root / _CACHE_LOCK):
        if request.packages:
            names = {canonicalize_name(p) for p in request.packages}
            removal = _clean_packages(ctx.cache, names)
        else:
            removal = _clean_all(root)
    return CacheResult(root, True, removal)


def cache_prune(ctx: CommandContext) -> CacheResult:
    root = ctx.cache.root
    if not root.is_dir():
        return CacheResult(root, False, Removal())
    removal = Removal()
    with file_lock(root / _CACHE_LOCK):
        for entry in _children(root):
            match = _BUCKET.match(entry.name)
            if match and match.group("version") != _CURRENT_VERSION:
                removal.add(remove(entry))
        removal.add(_prune_scratch(root / "tmp-v1"))
        removal.add(_prune_partials(root))
        removal.add(_prune_unpacked_archives(root))
        removal.add(_prune_interpreters(root / "interpreters-v1"))
    return CacheResult(root, True, removal)


def remove(path: Path) -> Removal:
    """Delete a file or a whole tree, counting what it held."""
    removal = Removal(paths=[path])
    if path.is_symlink() or path.is_file():
        _count_file(path, removal)
        with suppress(FileNotFoundError):
            path.unlink()
        return removal
    if not path.is_dir():
        return Removal()
    for folder, dirs, files in os.walk(path):
        removal.dirs += 1
        for name in files:
            _count_file(Path(folder, name), removal)
        # A symlinked folder is one file here; its target is not the cache's.
        for name in dirs:
            if Path(folder, name).is_symlink():
                _count_file(Path(folder, name), removal)
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise KilnError(
            f"could not remove `{path}`",
            causes=[exc.strerror or str(exc)],
            hint="check the permissions of the cache folder, or remove it by hand",
        ) from None
    return removal


def _count_file(path: Path, removal: Removal) -> None:
    removal.files += 1
    with suppress(OSError):
        stat = path.lstat()
        # Disk usage, as `du` and uv count it, not the apparent size.
        blocks = getattr(stat, "st_blocks", None)
        removal.bytes += blocks * 512 if blocks is not None else stat.st_size


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _clean_all(root: Path) -> Removal:
    removal = Removal()
    for entry in _children(root):
        if entry.name in _KEEP_AT_ROOT:
            continue
        if entry.name == "tmp-v1":
            removal.add(_prune_scratch(entry))
        elif entry.name in ("wheels-v1", "builds-v1"):
            removal.add(_remove_locked_entries(entry))
        else:
            removal.add(remove(entry))
    return removal


def _remove_locked_entries(bucket: Path) -> Removal:
    """Every entry of a bucket whose writers lock ``<entry>.lock`` beside it."""
    removal = Removal()
    for entry in _children(bucket):
        if entry.is_dir() and (bucket / f"{entry.name}.lock").exists():
            with file_lock(bucket / f"{entry.name}.lock"):
                removal.add(remove(entry))
        elif entry.is_dir():
            removal.add(_remove_locked_entries(entry))
        elif not entry.name.endswith(".lock"):
            removal.add(remove(entry))
    return removal


def _in_use(path: Path, now: float) -> bool:
    for item in _walk(path):
        with suppress(OSError):
            if now - item.lstat().st_mtime < SCRATCH_GRACE_S:
                return True
    return False


def _walk(path: Path) -> Iterator[Path]:
    yield path
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            yield from (Path(folder, n) for n in (*dirs, *files))


def _prune_scratch(scratch: Path) -> Removal:
    removal = Removal()
    now = time.time()
    for entry in _children(scratch):
        if not _in_use(entry, now):
            removal.add(remove(entry))
    return removal


# Folders holding whole trees a package or an environment shaped: a name inside them that
# looks like a partial write may be one of that package's own files.
_OPAQUE = ("wheels-v1", "environments-v1", "tmp-v1", "builds-v1/envs", "builds-v1/wheels")


def _prune_partials(root: Path) -> Removal:
    removal = Removal()
    now = time.time()
    opaque = {root / name for name in _OPAQUE}
    for folder, dirs, files in os.walk(root):
        if Path(folder) in opaque:
            dirs.clear()
        for name in files:
            path = Path(folder, name)
            if _PARTIAL.match(name) and not _in_use(path, now):
                removal.add(remove(path))
    return removal


def _prune_unpacked_archives(root: Path) -> Removal:
    """A downloaded wheel waits in ``archives`` only until it is unpacked into ``wheels``."""
    removal = Removal()
    wheels = root / "wheels-v1"
    for archive in _children(root / "archives-v1"):
        if archive.suffix == ".whl" and (wheels / archive.stem).is_dir():
            removal.add(remove(archive))
    return removal


def _prune_interpreters(bucket: Path) -> Removal:
    """Facts about an interpreter that is gone can never be read again."""
    import json

    removal = Removal()
    for entry in _children(bucket):
        try:
            executable = json.loads(entry.read_text("utf-8"))["stamp"]["executable"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(executable, str) and not os.path.lexists(executable):
            removal.add(remove(entry))
    return removal


def _clean_packages(cache: Cache, names: set[NormalizedName]) -> Removal:
    removal = Removal()
    root = cache.root
    for page in _glob(root / "http-v1", "*/*.page"):
        if _page_project(page) in names:
            removal.add(remove(page))
    for meta in (*_glob(root / "metadata-v1", "*.METADATA"), *_glob(root / "builds-v1/metadata")):
        if _metadata_name(meta) in names:
            removal.add(remove(meta))
    for archive in _glob(root / "archives-v1", "*.whl"):
        if _archive_project(archive) in names:
            removal.add(remove(archive))
    wheels = root / "wheels-v1"
    for folder in _glob(wheels):
        if folder.is_dir() and _unpacked_project(folder) in names:
            with file_lock(wheels / f"{folder.name}.lock"):
                removal.add(remove(folder))
    built = root / "builds-v1" / "wheels"
    for folder in _glob(built):
        if folder.is_dir() and any(_wheel_project(w.name) in names for w in _glob(folder, "*.whl")):
            with file_lock(built / f"{folder.name}.lock"):
                removal.add(remove(folder))
    return removal


def _glob(folder: Path, pattern: str = "*") -> Sequence[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else ()


def _page_project(page: Path) -> NormalizedName | None:
    """The project an index page is about, from the URL stored on its first line."""
    import json
    from urllib.parse import unquote, urlsplit

    try:
        with page.open("rb") as f:
            url = json.loads(f.readline())["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    last = unquote(urlsplit(str(url)).path).rstrip("/").rsplit("/", 1)[-1]
    return _wheel_project(last.removesuffix(".metadata")) or (
        canonicalize_name(last) if last else None
    )


def _wheel_project(filename: str) -> NormalizedName | None:
    with suppress(InvalidWheelFilename):
        return parse_wheel_filename(filename)[0]
    with suppress(InvalidSdistFilename):
        return parse_sdist_filename(filename)[0]
    return None


def _metadata_name(path: Path) -> NormalizedName | None:
    try:
        with path.open("rb") as f:
            for raw in f:
                line = raw.decode("utf-8", "replace")
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() == "name":
                    return canonicalize_name(value.strip())
    except OSError:
        return None
    return None


def _dist_info_project(dist_info: str) -> NormalizedName:
    return canonicalize_name(dist_info.removesuffix(".dist-info").split("-", 1)[0])


def _unpacked_project(folder: Path) -> NormalizedName | None:
    for child in _glob(folder, "*.dist-info"):
        return _dist_info_project(child.name)
    return None


def _archive_project(archive: Path) -> NormalizedName | None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                top = member.split("/", 1)[0]
                if top.endswith(".dist-info"):
                    return _dist_info_project(top)
    except (OSError, zipfile.BadZipFile):
        return None
    return None
