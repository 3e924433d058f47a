"""The files `kiln init` writes, as `uv init` writes them: text only, no I/O.

An application (the default) is a `main.py` beside a `pyproject.toml` without a build system;
a library or a packaged application is a `src/<module>/` package built with hatchling, the
packaged application with a `[project.scripts]` entry that runs its `main()`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.records import record

ProjectKind = Literal["app", "lib", "package"]

_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)

GITIGNORE = """\
# Python-generated files
__pycache__/
*.py[oc]
build/
dist/
wheels/
*.egg-info

# Virtual environments
.venv
"""


@record
class ProjectFile:
    """One file of a new project's layout."""

    path: PurePosixPath  # relative to the project root
    text: str


def project_name(raw: str) -> NormalizedName | None:
    """The package name for a folder or `--name`, normalized as uv does (spaces become `-`,
    then PEP 503); None when it cannot be a package name."""
    candidate = raw.strip().replace(" ", "-")
    if not _NAME_RE.match(candidate):
        return None
    return canonicalize_name(candidate)


def module_name(name: NormalizedName) -> str:
    return name.replace("-", "_")


def pyproject_text(
    name: NormalizedName, python: tuple[int, int], kind: ProjectKind, *, readme: bool
) -> str:
    lines = [
        "[project]",
        f'name = "{name}"',
        'version = "0.1.0"',
        'description = "Add your description here"',
        *(['readme = "README.md"'] if readme else []),
        f'requires-python = ">={python[0]}.{python[1]}"',
        "dependencies = []",
    ]
    if kind == "package":
        lines += ["", "[project.scripts]", f'{name} = "{module_name(name)}:main"']
    if kind in ("lib", "package"):
        lines += [
            "",
            "[build-system]",
            'requires = ["hatchling"]',
            'build-backend = "hatchling.build"',
        ]
    return "\n".join(lines) + "\n"


def project_files(
    name: NormalizedName,
    python: tuple[int, int],
    kind: ProjectKind,
    *,
    readme: bool,
    gitignore: bool,
) -> tuple[ProjectFile, ...]:
    """Every file of a new project; `pyproject.toml` comes last, so that a project exists only
    once everything else is in place."""
    files = [ProjectFile(PurePosixPath(".python-version"), f"{python[0]}.{python[1]}\n")]
    if readme:
        files.append(ProjectFile(PurePosixPath("README.md"), ""))
    if gitignore:
        files.append(ProjectFile(PurePosixPath(".gitignore"), GITIGNORE))
    package = PurePosixPath("src", module_name(name))
    if kind == "app":
        files.append(ProjectFile(PurePosixPath("main.py"), _main_py(name)))
    elif kind == "lib":
        files.append(ProjectFile(package / "__init__.py", _lib_init(name)))
        files.append(ProjectFile(package / "py.typed", ""))
    else:
        files.append(ProjectFile(package / "__init__.py", _package_init(name)))
    files.append(
        ProjectFile(
            PurePosixPath("pyproject.toml"), pyproject_text(name, python, kind, readme=readme)
        )
    )
    return tuple(files)


def _main_py(name: str) -> str:
    return (
        "def main():\n"
        f'    print("Hello from {name}!")\n'
        "\n\n"
        'if __name__ == "__main__":\n'
        "    main()\n"
    )


def _lib_init(name: str) -> str:
    return f'def hello() -> str:\n    return "Hello from {name}!"\n'


def _package_init(name: str) -> str:
    return f'def main() -> None:\n    print("Hello from {name}!")\n'
