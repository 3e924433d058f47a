"""Unpacking source distributions safely, and reading the metadata they already carry.

An sdist comes from an index anyone can upload to, so its members are checked before anything
is written: no absolute paths, no ``..``, no links that lead out of the destination, no
device files. PEP 643 (Metadata-Version 2.2) lets an sdist's ``PKG-INFO`` promise that its
dependencies will not change in the built wheel; then resolution needs no build at all.
"""

from __future__ import annotations

import posixpath
import tarfile
import zipfile
from pathlib import Path

from packaging.metadata import parse_email
from packaging.version import InvalidVersion, Version

from kiln.core.build import BuildError
from kiln.core.metadata import CoreMetadata

# Resolution reads these; if the backend may still change any of them, PKG-INFO cannot stand
# in for the wheel's METADATA.
_RESOLUTION_FIELDS = frozenset({"requires-dist", "requires-python", "provides-extra"})
_STATIC_SINCE = Version("2.2")


def extract_sdist(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into the empty folder ``dest``; return its single top-level folder."""
    name = archive.name
    try:
        if name.endswith(".zip"):
            _extract_zip(archive, dest)
        elif name.endswith(".tar.gz"):
            _extract_tar(archive, dest)
        else:
            raise BuildError(f"`{name}` is not a source distribution (.tar.gz or .zip)")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BuildError(f"could not unpack `{name}`", causes=[str(exc)]) from None
    entries = list(dest.iterdir())
    if len(entries) != 1 or not entries[0].is_dir():
        raise BuildError(
            f"`{name}` is not a valid source distribution",
            causes=["it must hold exactly one top-level folder"],
        )
    return entries[0]


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_tar_member(archive, member)
        if hasattr(tarfile, "data_filter"):
            # A second opinion where the interpreter has one: it also drops set-uid bits.
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - interpreters before the 2023 tarfile security releases
            tar.extractall(dest, members=members)


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    where = _inside(archive, member.name)
    if member.isdev():
        raise _unsafe(archive, member.name, "is a device file")
    if member.issym():
        _link_inside(archive, member, posixpath.join(posixpath.dirname(where), member.linkname))
    elif member.islnk():
        # Hard link targets are named from the archive's root, not from the link's folder.
        _link_inside(archive, member, member.linkname)


def _link_inside(archive: Path, member: tarfile.TarInfo, target: str) -> None:
    if member.linkname.startswith("/") or _escapes(posixpath.normpath(target)):
        raise _unsafe(archive, member.name, f"links outside the archive (to `{member.linkname}`)")


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            _inside(archive, info.filename)
        # zipfile writes symlink members as plain files holding the target, so none escape.
        zf.extractall(dest)


def _inside(archive: Path, member: str) -> str:
    """``member`` normalised, or an error when it would land outside the destination."""
    path = member.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise _unsafe(archive, member, "has an absolute path")
    if ".." in path.split("/"):
        raise _unsafe(archive, member, "points outside the archive with `..`")
    return posixpath.normpath(path)


def _escapes(normal: str) -> bool:
    return normal == ".." or normal.startswith("../")


def _unsafe(archive: Path, member: str, why: str) -> BuildError:
    return BuildError(
        f"refusing to unpack `{archive.name}`: member `{member}` {why}",
        hint="the source distribution is malformed or malicious; report it to its publisher",
    )


def read_pkg_info(tree: Path) -> bytes | None:
    try:
        return (tree / "PKG-INFO").read_bytes()
    except OSError:
        return None


def static_metadata(pkg_info: bytes, *, origin: str = "PKG-INFO") -> CoreMetadata | None:
    """The metadata a wheel built from this sdist will have, if PKG-INFO can promise it.

    Needs Metadata-Version 2.2 or later (PEP 643) and none of the fields resolution reads
    marked ``Dynamic``; otherwise None, and the caller must ask the backend.
    """
    raw, _unparsed = parse_email(pkg_info)
    try:
        version = Version(raw.get("metadata_version") or "0")
    except InvalidVersion:
        return None
    if version < _STATIC_SINCE:
        return None
    dynamic = {field.strip().lower() for field in raw.get("dynamic", [])}
    if dynamic & _RESOLUTION_FIELDS:
        return None
    return CoreMetadata.parse(pkg_info, origin=origin)
