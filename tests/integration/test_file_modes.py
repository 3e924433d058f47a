"""Modes of the files kiln writes, under umask 022: 0644 for files, 0755 for scripts and
folders, and a rewritten file keeps the mode it had (as uv does)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user
Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
TOOL = Pkg("tool", "1.0", entry_points={"toolcli": "tool:main"})


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    # kiln runs as a subprocess and inherits this umask.
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def modes_under(root: Path) -> dict[str, int]:
    """Relative path -> mode of every file and folder under ``root``, links left out."""
    return {str(p.relative_to(root)): mode(p) for p in root.rglob("*") if not p.is_symlink()}


def odd_modes(root: Path) -> dict[str, str]:
    """What under ``root`` is neither a 0644 file nor a 0755 folder or script."""
    odd = {}
    for relative, got in modes_under(root).items():
        path = root / relative
        allowed = {0o755} if path.is_dir() else {0o644, 0o755}
        if got not in allowed:
            odd[relative] = oct(got)
    return odd


def project(kiln: Kiln, tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    kiln("init", str(root), "--python", PY312, "--vcs", "none", check=True)
    return root


def test_project_files_environment_and_cache_get_the_umasks_modes(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(TOOL, Pkg("other", "2.0"))
    index = ("--default-index", index_server.index_url())
    root = project(kiln, tmp_path)
    assert mode(root / "pyproject.toml") == 0o644
    assert mode(root / ".python-version") == 0o644

    kiln("add", "tool", "other", "--project", str(root), *index, check=True)
    assert mode(root / "pyproject.toml") == 0o644
    assert mode(root / "pylock.toml") == 0o644

    venv = root / ".venv"
    site = venv / "lib" / "python3.12" / "site-packages"
    dist_info = site / "tool-1.0.dist-info"
    assert mode(dist_info / "RECORD") == 0o644
    assert mode(dist_info / "INSTALLER") == 0o644
    assert mode(site / "tool" / "__init__.py") == 0o644
    assert mode(venv / "pyvenv.cfg") == 0o644
    assert mode(venv / "bin" / "toolcli") == 0o755
    assert mode(site / "tool") == 0o755 and mode(dist_info) == 0o755
    assert odd_modes(venv) == {}

    kiln("remove", "other", "--project", str(root), *index, check=True)
    assert mode(root / "pyproject.toml") == 0o644

    bad = kiln("add", "not a [requirement", "--project", str(root), *index)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    unknown = kiln("add", "no-such-package", "--project", str(root), *index)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    # The failed add wrote the pyproject, then put the old one back.
    assert "no-such-package" not in (root / "pyproject.toml").read_text()
    assert mode(root / "pyproject.toml") == 0o644

    (root / "pylock.toml").unlink()
    kiln("lock", "--project", str(root), *index, check=True)
    assert mode(root / "pylock.toml") == 0o644

    assert odd_modes(tmp_path / "kiln-cache") == {}


def test_venv_and_pip_install_with_a_console_script(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(TOOL)
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", PY312, check=True)
    assert mode(venv / "pyvenv.cfg") == 0o644
    assert mode(venv) == 0o755
    kiln(
        "pip", "install", "tool", "--index-url", index_server.index_url(),
        "--python", str(venv), check=True,
    )  # fmt: skip
    dist_info = venv / "lib" / "python3.12" / "site-packages" / "tool-1.0.dist-info"
    assert mode(dist_info / "RECORD") == 0o644
    assert mode(dist_info / "INSTALLER") == 0o644
    assert mode(venv / "bin" / "toolcli") == 0o755
    assert odd_modes(venv) == {}
    assert odd_modes(tmp_path / "kiln-cache") == {}


@pytest.mark.parametrize("before", [0o600, 0o664], ids=oct)
def test_add_keeps_the_mode_the_pyproject_had(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path, before: int
) -> None:
    index_server.add(TOOL)
    root = project(kiln, tmp_path)
    (root / "pyproject.toml").chmod(before)
    kiln(
        "add", "tool", "--no-sync", "--project", str(root),
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip
    assert '"tool' in (root / "pyproject.toml").read_text()
    assert mode(root / "pyproject.toml") == before
    assert mode(root / "pylock.toml") == 0o644
