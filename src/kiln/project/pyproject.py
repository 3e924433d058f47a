"""A project's `pyproject.toml`: PEP 621 `[project]`, PEP 735 `[dependency-groups]`, and the
`[tool.uv]` / `[tool.kiln]` tables, read into one validated value."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import KilnError, undecodable_error
from kiln.core.records import field, record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib
from kiln.project.uv_tables import (
    KilnTables,
    Problems,
    UvTables,
    read_kiln_tables,
    read_uv_tables,
    requirement_list,
)


class PyprojectError(KilnError):
    """`pyproject.toml` is not valid; every problem found is listed."""


@record
class Pyproject:
    """What kiln reads of a project's `pyproject.toml`."""

    path: Path
    name: str | None
    version: str | None
    requires_python: SpecifierSet | None
    dependencies: tuple[Requirement, ...]
    optional_dependencies: Mapping[NormalizedName, tuple[Requirement, ...]]
    # PEP 735 groups with `include-group` already expanded; legacy dev-dependencies merged into `dev`.
    dependency_groups: Mapping[NormalizedName, tuple[Requirement, ...]]
    build_system: Mapping[str, Any] | None
    uv: UvTables
    kiln: KilnTables
    warnings: tuple[str, ...] = field(default=())

    @property
    def root(self) -> Path:
        return self.path.parent


def _expand_groups(
    raw: Mapping[str, Any], problems: Problems
) -> dict[NormalizedName, tuple[Requirement, ...]]:
    by_norm = {canonicalize_name(k): v for k, v in raw.items()}
    if len(by_norm) != len(raw):
        problems.errors.append("`dependency-groups` has two groups whose names normalize alike")
    done: dict[NormalizedName, tuple[Requirement, ...]] = {}

    def expand(name: NormalizedName, stack: tuple[NormalizedName, ...]) -> tuple[Requirement, ...]:
        if name in done:
            return done[name]
        if name in stack:
            problems.errors.append(
                f"`dependency-groups` include cycle: {' -> '.join((*stack, name))}"
            )
            return ()
        out: list[Requirement] = []
        items = by_norm.get(name, [])
        if not isinstance(items, list):
            problems.errors.append(f"`dependency-groups.{name}` must be an array")
            items = []
        for item in items:
            if isinstance(item, Mapping):
                included = item.get("include-group")
                if set(item) != {"include-group"} or not isinstance(included, str):
                    problems.errors.append(
                        f"`dependency-groups.{name}` has `{dict(item)!r}`: a table there must "
                        'be `{ include-group = "NAME" }`'
                    )
                    continue
                if canonicalize_name(included) not in by_norm:
                    problems.errors.append(
                        f"`dependency-groups.{name}` includes unknown group `{included}`"
                    )
                    continue
                out.extend(expand(canonicalize_name(included), (*stack, name)))
            else:
                out.extend(requirement_list([item], f"dependency-groups.{name}", problems))
        done[name] = tuple(out)
        return done[name]

    for name in by_norm:
        expand(name, ())
    return done


def _table(value: object, key: str, problems: Problems) -> Mapping[str, Any]:
    """``value`` when it is a table; otherwise an error for ``key`` and an empty table."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.errors.append(f"`{key}` must be a table, not `{value!r}`")
        return {}
    return value


def parse_pyproject(data: Mapping[str, Any], path: Path) -> Pyproject:
    problems = Problems()
    project = data.get("project", {})
    if not isinstance(project, Mapping):
        problems.errors.append("`[project]` must be a table")
        project = {}
    elif "project" in data and "name" not in project:
        # uv refuses this in every mode (`tool.uv.package = false` included): PEP 621 makes
        # `name` the one key `[project]` cannot do without.
        raise PyprojectError(
            f"`[project]` in `{path}` has no `name`",
            hint='add `name = "…"` to `[project]`, or remove the `[project]` table if the file '
            "only holds `[dependency-groups]` and `[tool.uv]`",
        )
    elif "name" in project and not isinstance(project["name"], str):
        problems.errors.append(f"`project.name` must be a string, not `{project['name']!r}`")
    requires_python = None
    if project.get("requires-python"):
        try:
            requires_python = SpecifierSet(str(project["requires-python"]))
        except InvalidSpecifier:
            problems.errors.append(
                f"`project.requires-python` `{project['requires-python']}` is not a valid specifier"
            )
    dependencies = requirement_list(
        project.get("dependencies", []), "project.dependencies", problems
    )
    optional: dict[NormalizedName, tuple[Requirement, ...]] = {}
    extras = _table(project.get("optional-dependencies"), "project.optional-dependencies", problems)
    for extra, reqs in extras.items():
        optional[canonicalize_name(extra)] = requirement_list(
            reqs, f"project.optional-dependencies.{extra}", problems
        )
    groups = _expand_groups(
        _table(data.get("dependency-groups"), "dependency-groups", problems), problems
    )
    tool = _table(data.get("tool"), "tool", problems)
    uv = read_uv_tables(_table(tool.get("uv"), "tool.uv", problems), problems)
    if uv.dev_dependencies:
        groups[canonicalize_name("dev")] = (
            *groups.get(canonicalize_name("dev"), ()),
            *uv.dev_dependencies,
        )
    for name, sources in uv.sources.items():
        for s in sources:
            if s.extra is not None and s.extra not in optional:
                problems.errors.append(
                    f"`tool.uv.sources.{name}` is limited to extra `{s.extra}`, which `project.optional-dependencies` does not define"
                )
            if s.group is not None and s.group not in groups:
                problems.errors.append(
                    f"`tool.uv.sources.{name}` is limited to group `{s.group}`, which `dependency-groups` does not define"
                )
    kiln = read_kiln_tables(_table(tool.get("kiln"), "tool.kiln", problems), problems)
    if problems.errors:
        raise PyprojectError(
            f"`{path}` is not valid",
            causes=problems.errors,
            hint="fix the keys named above; kiln reads `[tool.uv]` as uv documents it",
        )
    return Pyproject(
        path=path,
        name=project.get("name"),
        version=project.get("version"),
        requires_python=requires_python,
        dependencies=dependencies,
        optional_dependencies=optional,
        dependency_groups=groups,
        build_system=data.get("build-system"),
        uv=uv,
        kiln=kiln,
        warnings=tuple(problems.warnings),
    )


def load_pyproject(path: Path) -> Pyproject:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KilnError(
            f"`{path}` does not exist", hint="run `kiln init` to create a project"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc) from None
    except UnicodeDecodeError as exc:
        raise undecodable_error(exc, path) from None
    return parse_pyproject(data, path)


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> PyprojectError:
    # tomllib has put the place only in its message (`lineno`/`colno` came in Python 3.14).
    message = str(exc)
    where = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    if where is None:
        at_end = message.endswith("(at end of document)")
        return PyprojectError(
            f"`{path}` is not valid TOML{' (at its end)' if at_end else ''}",
            causes=[message],
            hint="fix the TOML syntax; an unclosed string, bracket or table header is the "
            "usual cause",
        )
    line, column = int(where.group(1)), int(where.group(2))
    causes = [message]
    try:
        text = path.read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        text = None
    if text is not None:
        causes.append(f"line {line}: {text.strip()}")
    return PyprojectError(
        f"`{path}` is not valid TOML (line {line}, column {column})",
        causes=causes,
        hint=f"fix the TOML syntax at line {line}, column {column}",
    )


def find_project(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above ``start``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def is_packaged(project: Pyproject) -> bool:
    """Whether the project itself is installed into its environment, as uv decides:
    `tool.uv.package` when set, else whether it declares a `[build-system]`."""
    if project.uv.package is not None:
        return bool(project.uv.package)
    return project.build_system is not None
