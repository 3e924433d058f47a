"""Real interpreters for the python layer's tests: pyenv's installs of CPython 3.8 to 3.13."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from kiln.cache.layout import Cache

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def installed_versions() -> list[Version]:
    try:
        names = [p.name for p in (PYENV_ROOT / "versions").iterdir()]
    except OSError:
        return []
    versions = []
    for name in names:
        try:
            versions.append(Version(name))
        except InvalidVersion:
            continue
    return sorted(versions)


def pyenv_python(minor: str) -> Path:
    """pyenv's newest CPython ``minor`` (e.g. "3.12"), or skip the test."""
    matches = [v for v in installed_versions() if f"{v.major}.{v.minor}" == minor]
    if not matches:
        pytest.skip(f"no CPython {minor} in {PYENV_ROOT / 'versions'}")
    return PYENV_ROOT / "versions" / str(matches[-1]) / "bin" / "python3"


def link(target: Path, at: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(target)
    return at


def stdlib_venv(base: Path, at: Path) -> Path:
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(at)], check=True)
    return at


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Cache:
    """One inspection cache for the whole session, so each interpreter is probed once."""
    return Cache(tmp_path_factory.mktemp("kiln-cache"))


@pytest.fixture
def search_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder as the whole PATH, pyenv's real versions folder, no active env."""
    bin_dir = tmp_path / "path-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_ROOT))
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV"):
        monkeypatch.delenv(variable, raising=False)
    yield bin_dir
