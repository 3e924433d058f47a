"""`kiln init` through the real command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from kiln.core.errors import InterpreterError
from kiln.project.pyproject import Pyproject, load_pyproject
from kiln.python.discovery import find_interpreter
from tests.conftest import KilnRunner

HAS_GIT = shutil.which("git") is not None


def python_or_skip(request: str) -> None:
    try:
        find_interpreter(request)
    except InterpreterError:
        pytest.skip(f"no CPython {request} on this machine")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (outside `.git`) with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def init(kiln: KilnRunner, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return kiln("init", *args, cwd=cwd, check=True)


def project(root: Path) -> Pyproject:
    return load_pyproject(root / "pyproject.toml")


@pytest.mark.parametrize("version", ["3.12", "3.11"])
def test_app_requires_the_python_it_was_made_with(
    kiln: KilnRunner, tmp_path: Path, version: str
) -> None:
    python_or_skip(version)
    done = init(kiln, tmp_path, "hello", "--python", version)
    root = tmp_path / "hello"
    assert f"Initialized project `hello` at `{root}`" in done.stderr
    assert sorted(tree(root)) == [
        ".gitignore",
        ".python-version",
        "README.md",
        "main.py",
        "pyproject.toml",
    ]
    assert (root / ".python-version").read_text() == f"{version}\n"
    p = project(root)
    assert (p.name, p.version) == ("hello", "0.1.0")
    assert p.requires_python == SpecifierSet(f">={version}")
    assert p.dependencies == ()
    assert p.build_system is None
    run = subprocess.run(
        [sys.executable, "main.py"], cwd=root, capture_output=True, text=True, check=True
    )
    assert run.stdout == "Hello from hello!\n"


def test_lib_is_a_src_package_built_with_hatchling(kiln: KilnRunner, tmp_path: Path) -> None:
    python_or_skip("3.11")
    init(kiln, tmp_path, "My_Lib", "--lib", "--python", "3.11")
    root = tmp_path / "My_Lib"
    files = tree(root)
    assert "main.py" not in files
    assert files["src/my_lib/py.typed"] == b""
    assert b"def hello() -> str:" in files["src/my_lib/__init__.py"]
    p = project(root)
    assert p.name == "my-lib"  # the folder name, normalized as uv normalizes it
    assert p.requires_python == SpecifierSet(">=3.11")
    assert p.build_system == {"requires": ["hatchling"], "build-backend": "hatchling.build"}


def test_package_is_an_app_with_a_script_entry(kiln: KilnRunner, tmp_path: Path) -> None:
    python_or_skip("3.12")
    init(kiln, tmp_path, "tool", "--package", "--python", "3.12", "--name", "Fancy.Tool")
    root = tmp_path / "tool"
    assert b"def main() -> None:" in tree(root)["src/fancy_tool/__init__.py"]
    text = (root / "pyproject.toml").read_text()
    assert '[project.scripts]\nfancy-tool = "fancy_tool:main"\n' in text
    assert project(root).build_system is not None


def test_init_without_a_path_uses_the_current_folder(kiln: KilnRunner, tmp_path: Path) -> None:
    here = tmp_path / "in-place"
    here.mkdir()
    init(kiln, here, "--vcs", "none")
    assert project(here).name == "in-place"


def test_an_existing_project_is_refused_and_left_byte_identical(
    kiln: KilnRunner, tmp_path: Path
) -> None:
    root = tmp_path / "old"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "old"  # mine\n')
    (root / "notes.txt").write_text("keep\n")
    before = tree(root)
    done = kiln("init", "old", "--lib", "--python", "3.12", cwd=tmp_path)
    assert done.returncode != 0
    assert f"`{root / 'pyproject.toml'}` exists" in done.stderr
    assert "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert tree(root) == before
    assert not (root / ".git").exists()


def test_existing_readme_gitignore_and_main_are_kept(kiln: KilnRunner, tmp_path: Path) -> None:
    root = tmp_path / "half"
    root.mkdir()
    for name in ("README.md", ".gitignore", "main.py"):
        (root / name).write_text(f"my own {name}\n")
    init(kiln, tmp_path, "half")
    files = tree(root)
    for name in ("README.md", ".gitignore", "main.py"):
        assert files[name] == f"my own {name}\n".encode()
    assert "pyproject.toml" in files


def test_vcs_none_makes_no_repository_and_no_gitignore(kiln: KilnRunner, tmp_path: Path) -> None:
    init(kiln, tmp_path, "plain", "--vcs", "none", "--no-readme")
    root = tmp_path / "plain"
    assert sorted(tree(root)) == [".python-version", "main.py", "pyproject.toml"]
    assert not (root / ".git").exists()
    assert "readme" not in (root / "pyproject.toml").read_text()


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_a_new_folder_becomes_a_git_repository(kiln: KilnRunner, tmp_path: Path) -> None:
    init(kiln, tmp_path, "repo")
    assert (tmp_path / "repo" / ".git").is_dir()
    assert ".venv" in (tmp_path / "repo" / ".gitignore").read_text().splitlines()


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_a_project_inside_a_repository_gets_no_repository_of_its_own(
    kiln: KilnRunner, tmp_path: Path
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path / "mono")], check=True)
    init(kiln, tmp_path / "mono", "packages/inner")
    assert (tmp_path / "mono" / "packages" / "inner" / "pyproject.toml").is_file()
    assert not (tmp_path / "mono" / "packages" / "inner" / ".git").exists()


def test_a_folder_name_that_is_no_package_name_asks_for_name(
    kiln: KilnRunner, tmp_path: Path
) -> None:
    done = kiln("init", "not a name!", cwd=tmp_path)
    assert done.returncode != 0
    assert "`not a name!` is not a valid package name" in done.stderr
    assert "--name" in done.stderr
    assert not (tmp_path / "not a name!").exists()
    init(kiln, tmp_path, "not a name!", "--name", "fine", "--vcs", "none")
    assert project(tmp_path / "not a name!").name == "fine"


def test_a_python_that_is_not_there_is_a_clear_error_and_creates_nothing(
    kiln: KilnRunner, tmp_path: Path
) -> None:
    done = kiln("init", "nowhere", "--python", "3.1", cwd=tmp_path)
    assert done.returncode != 0
    assert "no python found for `3.1`" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "nowhere").exists()
