"""Source trees for tests of path, git and workspace sources: projects built by the
stdlib-only test backend, and a git repository with a tag and a later commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.backends import src_backend
from tests.support.git import git
from tests.support.venvs import python_of

BUILD_SYSTEM = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def make_lib(
    folder: Path, name: str, version: str, value: str, requires: list[str] | None = None
) -> Path:
    """A project whose `VALUE` tells its builds apart; built with nothing from an index."""
    (folder / "src" / name).mkdir(parents=True, exist_ok=True)
    (folder / "src" / name / "__init__.py").write_text(f"VALUE = {value!r}\n")
    # Rewritten within the second of an earlier build and at the same size (only the
    # version differs), backend.py would be imported from that build's bytecode, which
    # Python checks by whole-second mtime and size: the old version would be built again.
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    (folder / "backend.py").write_text(src_backend(name, version, requires or []))
    deps = ", ".join(f'"{r}"' for r in requires or [])
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n'
        + BUILD_SYSTEM
    )
    return folder


def value(venv: Path, module: str) -> str:
    done = subprocess.run(
        [str(python_of(venv)), "-c", f"import {module}; print({module}.VALUE, {module}.__file__)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or done.stderr


def make_repo(path: Path) -> tuple[str, str]:
    """A git repository with a tag `v1` and a later commit; returns both commits."""
    make_lib(path, "gitpkg", "1.0.0", "v1")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "one")
    git(path, "tag", "v1")
    first = git(path, "rev-parse", "HEAD")
    make_lib(path, "gitpkg", "1.1.0", "later")
    git(path, "commit", "-q", "-am", "two")
    return first, git(path, "rev-parse", "HEAD")
