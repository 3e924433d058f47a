"""`kiln init`: a new project like `uv init` makes, pinned to the interpreter it finds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from packaging.utils import NormalizedName

from kiln.commands.context import CommandContext
from kiln.core.errors import KilnError, UsageError
from kiln.core.records import record
from kiln.project.init_template import ProjectKind, project_files, project_name
from kiln.python.discovery import find_interpreter

Vcs = Literal["git", "none"]


class ProjectExistsError(KilnError):
    """`kiln init` found a `pyproject.toml` where it was to create one."""


@record
class InitRequest:
    """Where and how `kiln init` lays out a new project."""

    path: Path | None = None  # relative paths are taken from the current folder
    python: str | None = None
    kind: ProjectKind = "app"
    name: str | None = None
    readme: bool = True
    vcs: Vcs | None = None  # None: git when it is installed and the folder is in no repository


@record
class InitResult:
    """The project `kiln init` made."""

    name: NormalizedName
    root: Path
    python: tuple[int, int]
    interpreter: str
    written: tuple[Path, ...]  # files created; existing ones are never touched
    git_initialized: bool


def init_project(ctx: CommandContext, request: InitRequest, cwd: Path | None = None) -> InitResult:
    here = cwd or Path.cwd()
    root = Path(os.path.abspath(here / request.path)) if request.path else here
    pyproject = root / "pyproject.toml"
    if root.exists() and not root.is_dir():
        raise UsageError(
            f"`{root}` is a file, not a folder",
            hint="pass `kiln init` a folder to create the project in",
        )
    if pyproject.exists():
        raise _exists(pyproject)
    name = project_name(request.name if request.name is not None else root.name)
    if name is None:
        if request.name is not None:
            raise UsageError(
                f"`{request.name}` is not a valid package name",
                hint="use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            )
        raise UsageError(
            f"the folder name `{root.name}` is not a valid package name",
            hint="pass a package name with `--name`",
        )
    interpreter = find_interpreter(request.python, ctx.cache)
    minor = (interpreter.version[0], interpreter.version[1])
    git = _git_to_init(root, request.vcs)
    files = project_files(
        name, minor, request.kind, readme=request.readme, gitignore=request.vcs != "none"
    )
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file in files:
        target = root.joinpath(*file.path.parts)
        if _create(target, file.text):
            written.append(target)
        elif target == pyproject:
            raise _exists(pyproject)
    if git:
        _git_init(root)
    return InitResult(
        name=name,
        root=root,
        python=minor,
        interpreter=interpreter.description,
        written=tuple(written),
        git_initialized=git,
    )


def _exists(pyproject: Path) -> ProjectExistsError:
    return ProjectExistsError(
        f"a project already exists in `{pyproject.parent}`",
        causes=[f"`{pyproject}` exists"],
        hint="change that project with `kiln add` / `kiln remove`, or pass `kiln init` another folder",
    )


def _create(path: Path, text: str) -> bool:
    """Write ``path`` unless it exists; exclusive creation, so a file made meanwhile is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KilnError(f"cannot write `{path}`", causes=[str(exc)]) from None
    return True


def _git_to_init(root: Path, vcs: Vcs | None) -> bool:
    """Whether to run `git init`: not inside a repository already, and not where git is missing
    unless `--vcs git` asked for it (then that is an error)."""
    if vcs == "none":
        return False
    git = shutil.which("git")
    if git is None:
        if vcs == "git":
            raise KilnError(
                "`--vcs git` needs git, which is not on PATH",
                hint="install git, or pass `--vcs none`",
            )
        return False
    # The folder may not exist yet: ask about the nearest one that does.
    probe = next(p for p in (root, *root.parents) if p.is_dir())
    try:
        done = subprocess.run(
            [git, "rev-parse", "--is-inside-work-tree"],
            cwd=probe,
            env={**os.environ, "LC_ALL": "C"},
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return vcs == "git"
    if done.returncode == 0:
        return done.stdout.strip() != "true"
    # A broken git is only worth an error when the user asked for git.
    return "not a git repository" in done.stderr or vcs == "git"


def _git_init(root: Path) -> None:
    try:
        done = subprocess.run(
            ["git", "init"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise KilnError(f"`git init` failed in `{root}`", causes=[str(exc)]) from None
    if done.returncode != 0:
        raise KilnError(
            f"`git init` failed in `{root}`",
            causes=[line for line in done.stderr.splitlines() if line.strip()],
            hint="fix git, or pass `--vcs none`",
        )
