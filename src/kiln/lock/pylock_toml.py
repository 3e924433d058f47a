"""`pylock.toml` (PEP 751): the lock written out, and read back with every key checked.

The writer lays the file out by hand rather than through a TOML library so that the same
`Lock` always gives the same bytes, in an order made for reading diffs: top-level keys first,
then one ``[[packages]]`` table per entry with one ``[[packages.wheels]]`` table per wheel,
then kiln's own ``[tool.kiln]``. Markers are written with single quotes inside, as uv does.

The reader checks the file with `packaging.pylock` (the standard's own validation) and then
builds the `Lock`, naming the file and the key of the first thing wrong. Any valid PEP 751
lock reads, `uv export --format pylock.toml`'s included: one without `[tool.kiln]` reads
as a lock kiln did not make.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.errors import KilnError
from kiln.lock.fingerprint import fingerprint
from kiln.lock.model import (
    Lock,
    LockedArchive,
    LockedDependency,
    LockedDirectory,
    LockedFile,
    LockedPackage,
    LockedVcs,
)
from kiln.lock.toml_read import lock_tables
from kiln.net.redact import strip_userinfo

__all__ = [
    "FOREIGN_FINGERPRINT",
    "LOCK_VERSION",
    "LockFileError",
    "build_lock",
    "dump_lock",
    "fingerprint",
    "load_lock",
    "parse_lock",
]

LOCK_VERSION = "1.0"
# The fingerprint of a lock that kiln did not make: equal to no project's fingerprint.
FOREIGN_FINGERPRINT = ""
REGENERATE = "run `kiln lock` to regenerate it"


class LockFileError(KilnError):
    """A `pylock.toml` that cannot be read as a lock."""


# -- writing ------------------------------------------------------------------------------------


def dump_lock(lock: Lock) -> str:
    """The text of ``pylock.toml`` for ``lock``; equal locks give equal text."""
    out = [
        f"lock-version = {_string(LOCK_VERSION)}",
        f"created-by = {_string(lock.created_by)}",
    ]
    if lock.requires_python is not None:
        out.append(f"requires-python = {_string(str(lock.requires_python))}")
    if lock.environments:
        out += _array_lines("environments", [_string(_marker(m)) for m in lock.environments])
    out.append(f"extras = {_inline_array(lock.extras)}")
    out.append(f"dependency-groups = {_inline_array(lock.dependency_groups)}")
    out.append(f"default-groups = {_inline_array(lock.default_groups)}")
    if not lock.packages and not lock.directories:
        out.append("packages = []")  # required, even when the project depends on nothing
    for package in lock.packages:
        out += ["", *_package_lines(package)]
    for directory in lock.directories:
        out += ["", *_directory_lines(directory)]
    out += ["", "[tool.kiln]", f"input-fingerprint = {_string(lock.fingerprint)}"]
    if lock.unsupported:
        rows = [
            f"{{ marker = {_string(_marker(m))}, reason = {_string(reason)} }}"
            for m, reason in lock.unsupported
        ]
        out += _array_lines("unsupported", rows)
    if lock.resolution_markers:
        rows = [_string(_marker(m)) for m in lock.resolution_markers]
        out += _array_lines("resolution-markers", rows)
    if lock.torch_backend_request is not None:
        out.append(f"torch-backend-request = {_string(lock.torch_backend_request)}")
    if lock.torch_backends:
        out.append(f"torch-backends = {_inline_array(lock.torch_backends)}")
    return "\n".join(out) + "\n"


def _directory_lines(directory: LockedDirectory) -> list[str]:
    out = ["[[packages]]", f"name = {_string(directory.name)}"]
    if directory.marker is not None:
        out.append(f"marker = {_string(_marker(directory.marker))}")
    out += _dependency_lines(directory.dependencies)
    editable = "true" if directory.editable else "false"
    out.append(f"directory = {{ path = {_string(directory.path)}, editable = {editable} }}")
    return out


def _dependency_lines(dependencies: Sequence[LockedDependency]) -> list[str]:
    if not dependencies:
        return []
    rows = []
    for dep in dependencies:
        marker = "" if dep.marker is None else f", marker = {_string(_marker(dep.marker))}"
        rows.append(f"{{ name = {_string(dep.name)}{marker} }}")
    return _array_lines("dependencies", rows)


def _archive_lines(archive: LockedArchive) -> list[str]:
    out = ["[packages.archive]"]
    if archive.url is not None:
        out.append(f"url = {_string(strip_userinfo(archive.url))}")
    if archive.path is not None:
        out.append(f"path = {_string(archive.path)}")
    if archive.size is not None:
        out.append(f"size = {archive.size}")
    if archive.subdirectory is not None:
        out.append(f"subdirectory = {_string(archive.subdirectory)}")
    out.append(_hashes_line(archive.hashes))
    return out


def _vcs_lines(vcs: LockedVcs) -> list[str]:
    out = ["[packages.vcs]", f"type = {_string(vcs.type)}", f"url = {_string(vcs.url)}"]
    if vcs.requested_revision is not None:
        out.append(f"requested-revision = {_string(vcs.requested_revision)}")
    out.append(f"commit-id = {_string(vcs.commit_id)}")
    if vcs.subdirectory is not None:
        out.append(f"subdirectory = {_string(vcs.subdirectory)}")
    return out


def _package_lines(package: LockedPackage) -> list[str]:
    out = [
        "[[packages]]",
        f"name = {_string(package.name)}",
        f"version = {_string(str(package.version))}",
    ]
    if package.marker is not None:
        out.append(f"marker = {_string(_marker(package.marker))}")
    if package.requires_python is not None:
        out.append(f"requires-python = {_string(str(package.requires_python))}")
    out += _dependency_lines(package.dependencies)
    if package.index is not None:
        out.append(f"index = {_string(strip_userinfo(package.index))}")
    if package.sdist is not None:
        out += ["", "[packages.sdist]", *_file_lines(package.sdist)]
    for wheel in package.wheels:
        out += ["", "[[packages.wheels]]", *_file_lines(wheel)]
    if package.archive is not None:
        out += ["", *_archive_lines(package.archive)]
    if package.vcs is not None:
        out += ["", *_vcs_lines(package.vcs)]
    return out


def _file_lines(file: LockedFile) -> list[str]:
    out = [f"name = {_string(file.name)}", f"url = {_string(strip_userinfo(file.url))}"]
    if file.size is not None:
        out.append(f"size = {file.size}")
    if file.upload_time is not None:
        out.append(f"upload-time = {_datetime(file.upload_time)}")
    out.append(_hashes_line(file.hashes))
    return out


def _hashes_line(hashes: Mapping[str, str]) -> str:
    pairs = ", ".join(f"{_key(a)} = {_string(d)}" for a, d in sorted(hashes.items()))
    return f"hashes = {{ {pairs} }}" if pairs else "hashes = {}"


def _marker(marker: Marker) -> str:
    text = str(marker)
    # packaging writes double quotes; single quotes read better inside a TOML string.
    return text.replace('"', "'") if "'" not in text else text


# Nothing a basic TOML string must escape: a control character, `"` or `\`.
_PLAIN = re.compile(r'[^\x00-\x1f"\\\x7f]*')


def _string(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return '"' + value + '"'  # URLs, hashes, names: nearly every string of a lock
    escaped = []
    for ch in value:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def _key(name: str) -> str:
    bare = name and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in name)
    return name if bare else _string(name)


def _inline_array(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _array_lines(key: str, rendered: Sequence[str]) -> list[str]:
    return [f"{key} = [", *(f"    {item}," for item in rendered), "]"]


def _datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat()
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat() + "Z"


# -- reading ------------------------------------------------------------------------------------


def load_lock(text: str, path: Path | str) -> Lock:
    """The lock in ``text`` (read from ``path``, named in errors)."""
    return build_lock(parse_lock(text, path), path)


def parse_lock(text: str, path: Path | str) -> dict[str, Any]:
    """The TOML of ``text``, checked against PEP 751."""
    try:
        data = lock_tables(text)
    except ValueError as exc:
        raise LockFileError(
            f"`{path}` is not valid TOML", causes=(str(exc),), hint=REGENERATE
        ) from None
    _validate_pep751(data, path)
    return data


def build_lock(data: Mapping[str, Any], path: Path | str) -> Lock:
    """The `Lock` of tables `parse_lock` returned, checked key by key."""
    return _Reader(path).lock(data)


def _validate_pep751(data: Mapping[str, Any], path: Path | str) -> None:
    try:
        from packaging.pylock import Pylock, PylockValidationError
    except ImportError:  # packaging before 25.1: the reader below still checks every key
        return
    try:
        Pylock.from_dict(data)
    except PylockValidationError as exc:
        where = f" at `{exc.context}`" if exc.context else ""
        raise LockFileError(
            f"`{path}` is not a valid PEP 751 lock file{where}",
            causes=(exc.message,),
            hint=REGENERATE,
        ) from None


class _Reader:
    """Typed access to the parsed TOML that names the key when something is off."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> LockFileError:
        return LockFileError(f"`{self.path}`: `{key}` {problem}", hint=REGENERATE)

    def get(self, table: Mapping[str, Any], where: str, key: str, kind: type, default: Any) -> Any:
        value = table.get(key, default)
        if value is default:
            return value
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{where}{key}", f"must be {_KIND_WORDS.get(kind, kind.__name__)}")
        return value

    def strings(self, table: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        values = self.get(table, where, key, list, [])
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.fail(f"{where}{key}[{i}]", "must be a string")
        return tuple(values)

    def marker(self, text: str | None, key: str) -> Marker | None:
        return None if text is None else self.required_marker(text, key)

    def required_marker(self, text: str, key: str) -> Marker:
        try:
            return Marker(text)
        except InvalidMarker:
            raise self.fail(key, f"is not a valid marker: `{text}`") from None

    def specifiers(self, text: str | None, key: str) -> SpecifierSet | None:
        if text is None:
            return None
        try:
            return SpecifierSet(text)
        except InvalidSpecifier:
            raise self.fail(key, f"is not a valid version specifier: `{text}`") from None

    def lock(self, data: Mapping[str, Any]) -> Lock:
        version = self.get(data, "", "lock-version", str, None)
        if version is None:
            raise self.fail("lock-version", "is missing")
        if version.split(".")[0] != LOCK_VERSION.split(".")[0]:
            raise self.fail("lock-version", f"is `{version}`; kiln reads {LOCK_VERSION}")
        tool = self.get(data, "", "tool", dict, {})
        kiln = self.get(tool, "tool.", "kiln", dict, {})
        # A lock without `[tool.kiln]` (uv's export, any other PEP 751 writer) was made from
        # inputs kiln cannot know: never fresh, so a relock replaces it, preferring its pins.
        # kiln always writes the fingerprint there, so a `[tool.kiln]` without one is damaged.
        fp = self.get(kiln, "tool.kiln.", "input-fingerprint", str, None)
        if fp is None and "kiln" in tool:
            raise self.fail("tool.kiln.input-fingerprint", "is missing")
        if fp is None:
            fp = FOREIGN_FINGERPRINT
        packages = self.get(data, "", "packages", list, [])
        return Lock(
            requires_python=self.specifiers(
                self.get(data, "", "requires-python", str, None), "requires-python"
            ),
            environments=tuple(
                self.required_marker(text, f"environments[{i}]")
                for i, text in enumerate(self.strings(data, "", "environments"))
            ),
            extras=self.strings(data, "", "extras"),
            dependency_groups=self.strings(data, "", "dependency-groups"),
            default_groups=self.strings(data, "", "default-groups"),
            packages=tuple(
                self.package(p, f"packages[{i}]")
                for i, p in enumerate(packages)
                if not (isinstance(p, dict) and "directory" in p)
            ),
            directories=tuple(
                self.directory(p, f"packages[{i}]")
                for i, p in enumerate(packages)
                if isinstance(p, dict) and "directory" in p
            ),
            fingerprint=fp,
            created_by=self.get(data, "", "created-by", str, "kiln"),
            unsupported=self.unsupported(kiln),
            resolution_markers=tuple(
                self.required_marker(text, f"tool.kiln.resolution-markers[{i}]")
                for i, text in enumerate(self.strings(kiln, "tool.kiln.", "resolution-markers"))
            ),
            torch_backends=self.strings(kiln, "tool.kiln.", "torch-backends"),
            torch_backend_request=self.get(kiln, "tool.kiln.", "torch-backend-request", str, None),
        )

    def unsupported(self, kiln: Mapping[str, Any]) -> tuple[tuple[Marker, str], ...]:
        out = []
        for i, row in enumerate(self.get(kiln, "tool.kiln.", "unsupported", list, [])):
            where = f"tool.kiln.unsupported[{i}]"
            if not isinstance(row, dict):
                raise self.fail(where, "must be a table")
            text = self.get(row, where + ".", "marker", str, None)
            if text is None:
                raise self.fail(f"{where}.marker", "is missing")
            reason = self.get(row, where + ".", "reason", str, "")
            out.append((self.required_marker(text, f"{where}.marker"), reason))
        return tuple(out)

    def package(self, table: object, where: str) -> LockedPackage:
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table")
        at = where + "."
        name = self.get(table, at, "name", str, None)
        version_text = self.get(table, at, "version", str, None)
        if name is None or version_text is None:
            raise self.fail(at + ("name" if name is None else "version"), "is missing")
        try:
            version = Version(version_text)
        except InvalidVersion:
            raise self.fail(at + "version", f"is not a valid version: `{version_text}`") from None
        sdist = self.get(table, at, "sdist", dict, None)
        archive = self.get(table, at, "archive", dict, None)
        vcs = self.get(table, at, "vcs", dict, None)
        return LockedPackage(
            name=canonicalize_name(name),
            version=version,
            marker=self.marker(self.get(table, at, "marker", str, None), at + "marker"),
            index=self.get(table, at, "index", str, None),
            requires_python=self.specifiers(
                self.get(table, at, "requires-python", str, None), at + "requires-python"
            ),
            wheels=tuple(
                self.file(w, f"{at}wheels[{i}]")
                for i, w in enumerate(self.get(table, at, "wheels", list, []))
            ),
            sdist=None if sdist is None else self.file(sdist, at + "sdist"),
            dependencies=tuple(
                self.dependency(d, f"{at}dependencies[{i}]")
                for i, d in enumerate(self.get(table, at, "dependencies", list, []))
            ),
            archive=None if archive is None else self.archive(archive, at + "archive."),
            vcs=None if vcs is None else self.vcs(vcs, at + "vcs."),
        )

    def archive(self, table: Mapping[str, Any], at: str) -> LockedArchive:
        url = self.get(table, at, "url", str, None)
        path = self.get(table, at, "path", str, None)
        if (url is None) == (path is None):
            raise self.fail(at + "url", "or `path` must be given, and not both")
        return LockedArchive(
            url=url,
            path=path,
            hashes=self.hashes(table, at),
            size=self.get(table, at, "size", int, None),
            subdirectory=self.get(table, at, "subdirectory", str, None),
        )

    def vcs(self, table: Mapping[str, Any], at: str) -> LockedVcs:
        kind = self.get(table, at, "type", str, None)
        if kind != "git":
            raise self.fail(at + "type", f"is `{kind}`; kiln installs only `git` repositories")
        url = self.get(table, at, "url", str, None)
        commit = self.get(table, at, "commit-id", str, None)
        if url is None or commit is None:
            raise self.fail(at + ("url" if url is None else "commit-id"), "is missing")
        return LockedVcs(
            url=url,
            commit_id=commit,
            requested_revision=self.get(table, at, "requested-revision", str, None),
            subdirectory=self.get(table, at, "subdirectory", str, None),
        )

    def hashes(self, table: Mapping[str, Any], at: str) -> dict[str, str]:
        hashes = self.get(table, at, "hashes", dict, {})
        for algo, digest in hashes.items():
            if not isinstance(digest, str):
                raise self.fail(f"{at}hashes.{algo}", "must be a string")
        return dict(hashes)

    def directory(self, table: dict[str, Any], where: str) -> LockedDirectory:
        at = where + "."
        name = self.get(table, at, "name", str, None)
        if name is None:
            raise self.fail(at + "name", "is missing")
        source = self.get(table, at, "directory", dict, {})
        path = self.get(source, at + "directory.", "path", str, None)
        if path is None:
            raise self.fail(at + "directory.path", "is missing")
        return LockedDirectory(
            name=canonicalize_name(name),
            path=path,
            editable=self.get(source, at + "directory.", "editable", bool, False),
            marker=self.marker(self.get(table, at, "marker", str, None), at + "marker"),
            dependencies=tuple(
                self.dependency(d, f"{at}dependencies[{i}]")
                for i, d in enumerate(self.get(table, at, "dependencies", list, []))
            ),
        )

    def dependency(self, table: object, where: str) -> LockedDependency:
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table")
        name = self.get(table, where + ".", "name", str, None)
        if name is None:
            raise self.fail(where + ".name", "is missing")
        marker_text = self.get(table, where + ".", "marker", str, None)
        return LockedDependency(
            NormalizedName(canonicalize_name(name)), self.marker(marker_text, where + ".marker")
        )

    def file(self, table: object, where: str) -> LockedFile:
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table")
        at = where + "."
        url = self.get(table, at, "url", str, None)
        if url is None:
            raise self.fail(at + "url", "is missing: kiln locks files by URL")
        name = self.get(table, at, "name", str, None) or unquote(urlsplit(url).path).split("/")[-1]
        hashes = self.hashes(table, at)
        return LockedFile(
            name=name,
            url=url,
            size=self.get(table, at, "size", int, None),
            upload_time=self.get(table, at, "upload-time", datetime, None),
            hashes=hashes,
        )


_KIND_WORDS = {
    str: "a string",
    int: "an integer",
    list: "an array",
    dict: "a table",
    datetime: "a date-time",
}
