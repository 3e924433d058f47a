"""`kiln sync` and `kiln run` answered from the record of an earlier no-op check, and only
while nothing that check read has changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kiln.commands.project.noop import STAMP_NAME
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions

PYPROJECT = """[project]
name = "noop"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["filelock"]
"""


def setup(kiln, root: Path, server: IndexServer) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    args = ("--project", str(root), "--default-index", server.index_url("pypi"))
    kiln("sync", *args, "--python", "3.12", check=True)
    return args


def forge(root: Path, audited: int) -> None:
    """Change what the record says, so that an answer taken from it can be told apart."""
    stamp = root / ".venv" / STAMP_NAME
    data = json.loads(stamp.read_text())
    for entry in data["entries"]:
        if "audited" in entry:
            entry["audited"] = audited
    stamp.write_text(json.dumps(data))


def test_second_noop_sync_is_answered_from_the_record(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    args = setup(kiln, root, torch_server)
    first = kiln("sync", *args, check=True)  # the full check, which records
    assert "Audited 1 package" in first.stderr
    forge(root, 99)
    before = len(torch_server.requests)
    again = kiln("sync", *args, check=True)
    assert "Audited 99 packages" in again.stderr
    assert len(torch_server.requests) == before
    # Other options are another check: the full way again.
    assert "Audited 1 package" in kiln("sync", *args, "--inexact", check=True).stderr


def test_a_package_removed_behind_kilns_back_is_installed_again(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    args = setup(kiln, root, torch_server)
    kiln("sync", *args, check=True)
    forge(root, 99)
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    for dist_info in site.glob("filelock-*.dist-info"):
        shutil.rmtree(dist_info)
    done = kiln("sync", *args, check=True)
    assert "Audited 99" not in done.stderr
    assert "filelock" in installed_versions(root / ".venv")


def test_an_edited_pyproject_is_locked_and_synced_again(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    args = setup(kiln, root, torch_server)
    code = "import sys; sys.exit(7)"
    assert kiln("run", *args, "python", "-c", code).returncode == 7  # records
    assert kiln("run", *args, "python", "-c", code).returncode == 7  # answered from it
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"filelock"', '"filelock", "jinja2"'))
    done = kiln("run", *args, "python", "-c", "import jinja2; print(jinja2.__version__)")
    assert done.returncode == 0, done.stderr
    assert "jinja2" in installed_versions(root / ".venv")


def test_a_command_that_is_not_there_is_reported_by_the_full_path(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    args = setup(kiln, root, torch_server)
    kiln("run", *args, "python", "-c", "pass", check=True)
    done = kiln("run", *args, "no-such-command-here")
    assert done.returncode == 2
    assert "`no-such-command-here` was not found" in done.stderr
    assert "Traceback" not in done.stderr
