"""`kiln pip install` of folders, `-e` folders, sdist files and git URLs, from the command
line and from requirements files: installed from there, never from an index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.source_trees import make_lib, make_repo, value
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg


def install(kiln, venv: Path, server: IndexServer, *args: str, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    return kiln(
        "pip", "install", "--python", str(venv), "--default-index", server.index_url(), *args,
        cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", "3.12", check=True)
    return path


def test_a_folder_installs_from_there_not_from_the_index(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("lib", "9.0"), Pkg("dep", "1.0"))
    make_lib(tmp_path / "lib", "lib", "0.3.0", "folder", ["dep"])
    done = install(kiln, venv, index_server, "./lib", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert installed_versions(venv) == {"lib": "0.3.0", "dep": "1.0"}
    assert "site-packages" in value(venv, "lib")


def test_an_editable_folder_shows_an_edit_at_once(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    lib = make_lib(tmp_path / "lib", "lib", "0.3.0", "before")
    done = install(kiln, venv, index_server, "-e", str(lib))
    assert done.returncode == 0, done.stderr
    (lib / "src" / "lib" / "__init__.py").write_text("VALUE = 'after'\n")
    assert value(venv, "lib").startswith("after ")


def test_requirements_files_take_folders_relative_to_themselves(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    make_lib(tmp_path / "reqs" / "one", "one", "1.0", "one")
    make_lib(tmp_path / "reqs" / "two", "two", "2.0", "two")
    (tmp_path / "reqs" / "requirements.txt").write_text("-e ./one\n./two\n")
    done = install(kiln, venv, index_server, "-r", str(tmp_path / "reqs" / "requirements.txt"))
    assert done.returncode == 0, done.stderr
    assert installed_versions(venv) == {"one": "1.0", "two": "2.0"}
    assert value(venv, "one").endswith(
        str(tmp_path / "reqs" / "one" / "src" / "one" / "__init__.py")
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="no git on PATH")
def test_a_git_url_installs_the_commit_it_names(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("gitpkg", "7.0"))
    make_repo(tmp_path / "repo")
    done = install(kiln, venv, index_server, f"git+{(tmp_path / 'repo').as_uri()}@v1")
    assert done.returncode == 0, done.stderr
    assert installed_versions(venv) == {"gitpkg": "1.0.0"}
    assert value(venv, "gitpkg").startswith("v1 ")


def test_a_named_reference_must_be_the_package_it_names(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    lib = make_lib(tmp_path / "lib", "lib", "0.3.0", "x")
    done = install(kiln, venv, index_server, f"other @ {lib.as_uri()}")
    assert done.returncode != 0
    assert "is the package `lib`, not `other`" in done.stderr
    assert installed_versions(venv) == {}


def test_a_missing_folder_is_an_error_naming_it(
    kiln, index_server: IndexServer, tmp_path: Path, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    done = install(kiln, venv, index_server, "./nothing", cwd=tmp_path)
    assert done.returncode != 0
    assert "does not exist: `./nothing`" in done.stderr and "Traceback" not in done.stderr
