"""A source tree's ``[build-system]`` table (PEP 517/518), with the legacy default."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from kiln.core.build import BuildError
from kiln.core.records import record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# PEP 517: a tree without a build-system table is built by setuptools' legacy entry point,
# which runs setup.py as pip always has.
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
LEGACY_REQUIRES = ("setuptools>=40.8.0",)


@record
class BuildSystem:
    """A project's `[build-system]` table, PEP 517 defaults filled in."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()

    @property
    def is_legacy_default(self) -> bool:
        return self.backend == LEGACY_BACKEND


def read_build_system(tree: Path) -> BuildSystem:
    pyproject = tree / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND)
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"could not read `{pyproject}`", causes=[str(exc)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"`{pyproject}` is not valid TOML", causes=[str(exc)]) from None
    table = data.get("build-system")
    if table is None:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND)
    if not isinstance(table, dict):
        raise _malformed(pyproject, "`build-system` must be a table")
    return _parse(pyproject, table)


def _parse(pyproject: Path, table: dict[str, Any]) -> BuildSystem:
    # PEP 518: a build-system table without `requires` is an error, not the default.
    if "requires" not in table:
        raise _malformed(pyproject, "`build-system` has no `requires` list")
    requires = _strings(pyproject, table["requires"], "build-system.requires")
    for requirement in requires:
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            raise _malformed(
                pyproject, f"`build-system.requires` holds an invalid requirement `{requirement}`"
            ) from exc
    backend = table.get("build-backend")
    if backend is None:
        # As pip and uv do: requirements but no backend means setuptools' legacy entry point.
        return BuildSystem(tuple(requires), LEGACY_BACKEND)
    if not isinstance(backend, str) or not backend.strip():
        raise _malformed(pyproject, "`build-system.build-backend` must be a non-empty string")
    backend_path = _strings(pyproject, table.get("backend-path", []), "build-system.backend-path")
    for entry in backend_path:
        _check_backend_path(pyproject, entry)
    return BuildSystem(tuple(requires), backend.strip(), tuple(backend_path))


def _strings(pyproject: Path, value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _malformed(pyproject, f"`{key}` must be a list of strings")
    return list(value)


def _check_backend_path(pyproject: Path, entry: str) -> None:
    # PEP 517: backend-path entries are relative and stay inside the source tree.
    tree = pyproject.parent.resolve()
    if Path(entry).is_absolute():
        raise _malformed(pyproject, f"`build-system.backend-path` entry `{entry}` is absolute")
    target = (tree / entry).resolve()
    if target != tree and tree not in target.parents:
        raise _malformed(
            pyproject, f"`build-system.backend-path` entry `{entry}` leaves the source tree"
        )


def _malformed(pyproject: Path, why: str) -> BuildError:
    return BuildError(f"`{pyproject}` has an invalid `[build-system]` table", causes=[why])
