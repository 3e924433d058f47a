"""What a user can ask for with `--python`, parsed into one of a few request kinds.

Forms, as uv reads them: nothing (any python), ``3``, ``3.12``, ``3.12.1``, a specifier set
(``>=3.11,<3.13``), an implementation with a version (``cpython@3.12``, ``cpython3.12``,
``cp312``, ``pypy@3.10``), an executable name (``python3.12``), or a path to an executable or
to an environment's folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from kiln.core.errors import UsageError
from kiln.core.records import record

_IMPLEMENTATIONS = {
    "cpython": "cpython",
    "cp": "cpython",
    "pypy": "pypy",
    "pp": "pypy",
    "graalpy": "graalpy",
}
_DISPLAY = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}
_IMPLEMENTATION_RE = re.compile(r"^(?P<impl>cpython|cp|pypy|pp|graalpy)@?(?P<rest>.+)$", re.I)
_VERSION_RE = re.compile(r"^\d+(\.\d+){0,2}([a-z]+\d+)?$", re.I)


@record
class AnyPython:
    """No request: the first python found."""


@record
class PathRequest:
    """An executable, or a folder holding one (a virtual environment, an installation)."""

    path: Path


@record
class NameRequest:
    """An executable name looked up on PATH and in pyenv's versions: ``python3.12``."""

    name: str


@record
class VersionRequest:
    """A request for a Python interpreter by version, and implementation if named."""

    text: str  # the version part as the user wrote it, for messages: "3.12", ">=3.11"
    specifier: SpecifierSet
    implementation: str | None = None  # "cpython", "pypy", ...

    def matches(self, version: tuple[int, ...], implementation: str) -> bool:
        if self.implementation is not None and implementation != self.implementation:
            return False
        return self.specifier.contains(".".join(map(str, version)), prereleases=True)

    @property
    def display(self) -> str:
        """``CPython 3.12``: what to install to satisfy the request."""
        implementation = self.implementation or "cpython"
        return f"{_DISPLAY.get(implementation, implementation)} {self.text}"


PythonRequest = AnyPython | PathRequest | NameRequest | VersionRequest


def parse_request(text: str | None) -> PythonRequest:
    if text is None or not text.strip() or text.strip().lower() == "any":
        return AnyPython()
    text = text.strip()
    if _looks_like_path(text):
        return PathRequest(Path(os.path.expanduser(text)))
    implementation: str | None = None
    rest = text
    match = _IMPLEMENTATION_RE.match(text)
    if match:
        implementation = _IMPLEMENTATIONS[match.group("impl").lower()]
        rest = match.group("rest")
        # cp312, pp310: the version without its dot.
        if rest.isdigit() and len(rest) > 1 and "@" not in text:
            rest = f"{rest[0]}.{rest[1:]}"
    version = _version_request(rest, implementation)
    if version is not None:
        return version
    if match is None:
        # As uv does: an existing folder or file by that name is a path (`--python venv`).
        if Path(text).exists():
            return PathRequest(Path(text))
        return NameRequest(text)
    raise UsageError(
        f"invalid python request `{text}`",
        hint="use a version (`3.12`), a specifier (`>=3.11`), `cpython@3.12` or a path",
    )


def _looks_like_path(text: str) -> bool:
    separators = [sep for sep in (os.sep, os.altsep, "/") if sep]
    return text.startswith((".", "~")) or any(sep in text for sep in separators)


def _version_request(text: str, implementation: str | None) -> VersionRequest | None:
    if text[:1] in "<>=!~":
        try:
            return VersionRequest(text, SpecifierSet(text), implementation)
        except InvalidSpecifier:
            raise UsageError(
                f"invalid python version specifier `{text}`",
                hint="write it as in `requires-python`, e.g. `>=3.11,<3.13`",
            ) from None
    if not _VERSION_RE.match(text):
        return None
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    parts = text.split(".")
    # A partial version asks for any release of that series: `3.12` admits 3.12.1.
    spec = f"=={text}" if len(parts) >= 3 or version.pre else f"=={text}.*"
    return VersionRequest(text, SpecifierSet(spec), implementation)
