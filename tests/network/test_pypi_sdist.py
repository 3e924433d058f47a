"""A real project whose dependency PyPI ships only as an sdist: hydra-core needs
antlr4-python3-runtime 4.9.*, built in an isolated environment with setuptools from PyPI."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.network.uv_lock_diff import PROJECTS_DIR
from tests.support.venvs import python_of

pytestmark = pytest.mark.network

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]


def test_hydra_locks_syncs_and_imports(kiln: Kiln, tmp_path: Path) -> None:
    root = tmp_path / "hydra"
    root.mkdir()
    source = PROJECTS_DIR / "hydra-sdist" / "pyproject.toml"
    (root / "pyproject.toml").write_text(source.read_text())
    kiln("lock", cwd=root, check=True)
    lock = (root / "pylock.toml").read_text()
    antlr = lock.split('name = "antlr4-python3-runtime"', 1)[1].split("[[packages]]", 1)[0]
    assert 'version = "4.9.3"' in antlr
    assert "[packages.sdist]" in antlr and "[[packages.wheels]]" not in antlr

    kiln("sync", "--python", "3.12", cwd=root, check=True)
    done = subprocess.run(
        [str(python_of(root / ".venv")), "-c", "import hydra, antlr4; print(hydra.__version__)"],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "1.3.2", done.stderr
