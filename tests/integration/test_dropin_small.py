"""Small places where a uv user expects uv's answer: `venv` over an existing path, `sync
--dry-run`, `add --dev --group`, and a `[project]` table without a name."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from kiln.project.pyproject import load_pyproject
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user


def _venv_with_a_package(kiln: Kiln, path: Path) -> Path:
    kiln("venv", str(path), "--python", PY312, check=True)
    (kept,) = path.glob("lib/python3.*/site-packages")
    marker = kept / "mine.py"
    marker.write_text("")
    return marker


def test_venv_refuses_to_replace_an_existing_environment(kiln: Kiln, tmp_path: Path) -> None:
    path = tmp_path / "env"
    marker = _venv_with_a_package(kiln, path)
    done = kiln("venv", str(path), "--python", PY312)
    assert done.returncode == 2, done.stderr
    assert f"a virtual environment already exists at `{path}`" in done.stderr
    assert "--clear" in done.stderr and "--allow-existing" in done.stderr
    assert "Traceback" not in done.stderr
    assert marker.exists(), "nothing was deleted"


def test_venv_clear_replaces_and_allow_existing_keeps(kiln: Kiln, tmp_path: Path) -> None:
    path = tmp_path / "env"
    marker = _venv_with_a_package(kiln, path)
    kiln("venv", str(path), "--python", PY312, "--allow-existing", check=True)
    assert marker.exists()
    assert (path / "pyvenv.cfg").is_file()
    # As uv: `--allow-existing` wins when both are given.
    kiln("venv", str(path), "--python", PY312, "--allow-existing", "--clear", check=True)
    assert marker.exists()
    kiln("venv", str(path), "--python", PY312, "--clear", check=True)
    assert not marker.exists()
    assert (path / "bin" / "python").exists()


def test_venv_clear_from_the_environment(kiln: Kiln, tmp_path: Path) -> None:
    path = tmp_path / "env"
    marker = _venv_with_a_package(kiln, path)
    kiln("venv", str(path), "--python", PY312, env={"UV_VENV_CLEAR": "1"}, check=True)
    assert not marker.exists()


def test_venv_never_deletes_a_folder_that_is_not_an_environment(kiln: Kiln, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    for flags in ((), ("--clear",)):
        done = kiln("venv", str(folder), "--python", PY312, *flags)
        assert done.returncode == 2, done.stderr
        assert f"`{folder}` exists and is not a virtual environment" in done.stderr
        assert "--allow-existing" in done.stderr
        assert (folder / "notes.txt").read_text() == "keep me"
    kiln("venv", str(folder), "--python", PY312, "--allow-existing", check=True)
    assert (folder / "notes.txt").read_text() == "keep me"
    assert (folder / "pyvenv.cfg").is_file()


def test_sync_dry_run_creates_no_environment(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(Pkg("alpha", "1.0"))
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["alpha"]\n'
    )
    index = ("--default-index", index_server.index_url())
    # Without a lock, a dry run resolves and still writes none.
    kiln("sync", "--project", str(root), "--python", "3.12", "--dry-run", *index, check=True)
    assert not (root / "pylock.toml").exists()
    kiln("lock", "--project", str(root), *index, check=True)
    lock = (root / "pylock.toml").read_text()

    done = kiln("sync", "--project", str(root), "--python", "3.12", "--dry-run", *index, check=True)
    assert not (root / ".venv").exists()
    assert (root / "pylock.toml").read_text() == lock
    assert f"Would create virtual environment at: {root / '.venv'}" in done.stderr
    assert "Would install 1 package" in done.stderr
    assert "alpha==1.0" in done.stderr

    kiln("sync", "--project", str(root), "--python", "3.12", *index, check=True)
    assert installed_versions(root / ".venv") == {"alpha": "1.0"}
    again = kiln(
        "sync", "--project", str(root), "--python", "3.12", "--dry-run", *index, check=True
    )
    assert "Would create" not in again.stderr
    assert "Audited 1 package" in again.stderr


def _scratch_project(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
    return root


def test_add_dev_with_group_is_refused_as_uv_does(kiln: Kiln, tmp_path: Path) -> None:
    root = _scratch_project(tmp_path / "project")
    before = (root / "pyproject.toml").read_text()
    for verb, flags, message in (
        ("add", ("--dev", "--group", "g"), "`--dev` cannot be used with `--group`"),
        ("remove", ("--dev", "--group", "g"), "`--dev` cannot be used with `--group`"),
        ("add", ("--dev", "--optional", "x"), "`--dev` cannot be used with `--optional`"),
        ("add", ("--optional", "x", "--group", "g"), "`--optional` cannot be used with `--group`"),
    ):
        done = kiln(verb, "six", *flags, "--frozen", "--project", str(root))
        assert done.returncode == 2, done.stderr
        assert f"error: {message}" in done.stderr
        assert "hint:" in done.stderr
        assert "Traceback" not in done.stderr
    assert (root / "pyproject.toml").read_text() == before


def test_add_group_alone_still_writes_the_group(kiln: Kiln, tmp_path: Path) -> None:
    root = _scratch_project(tmp_path / "project")
    kiln("add", "six", "--group", "g", "--frozen", "--project", str(root), check=True)
    groups = load_pyproject(root / "pyproject.toml").dependency_groups
    assert {name: [str(r) for r in reqs] for name, reqs in groups.items()} == {"g": ["six"]}


def test_project_table_without_name_is_an_error(kiln: Kiln, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    path = root / "pyproject.toml"
    path.write_text('[project]\nversion = "0"\n\n[tool.uv]\npackage = false\n')
    done = kiln("lock", "--project", str(root), "--offline")
    assert done.returncode == 2, done.stderr
    assert f"error: `[project]` in `{path}` has no `name`" in done.stderr
    assert "hint:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "pylock.toml").exists()
