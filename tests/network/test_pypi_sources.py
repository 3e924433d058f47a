"""Sources built by real backends whose build environments come from the real PyPI: a git
repository built by hatchling, a setuptools folder, an editable flit-core folder and a URL
wheel, locked and synced by kiln, and the same set installed by uv from kiln's lock."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.git import git
from tests.support.uv import uv_command, uv_install_lock
from tests.support.venvs import installed_versions, python_of

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("git") is None, reason="no git on PATH"),
]

IDNA_URL = (
    "https://files.pythonhosted.org/packages/76/c6/"
    "c88e154df9c4e1a2a66ccf0005a88dfb2650c1dffb6f5ce603dfbd452ce3/idna-3.10-py3-none-any.whl"
)
BACKENDS = {
    "hlib": ('["hatchling==1.27.0"]', "hatchling.build"),
    "slib": ('["setuptools==80.9.0"]', "setuptools.build_meta"),
    "flib": ('["flit_core==3.12.0"]', "flit_core.buildapi"),
}


def make_package(folder: Path, name: str) -> Path:
    requires, backend = BACKENDS[name]
    package = folder / "src" / name if name != "flib" else folder / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f'"""{name}."""\n__version__ = "1.0"\nVALUE = "{name}"\n')
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\ndescription = "{name}"\n'
        'requires-python = ">=3.9"\ndependencies = ["six"]\n\n'
        f'[build-system]\nrequires = {requires}\nbuild-backend = "{backend}"\n'
    )
    return folder


def built_wheels(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cache.glob("builds-v1/**/*.whl")}


def test_sources_built_by_real_backends_sync_and_uv_installs_the_same_lock(
    kiln, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    repo = make_package(tmp_path / "hlib", "hlib")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "tag", "v1.0")
    commit = git(repo, "rev-parse", "HEAD")
    make_package(tmp_path / "slib", "slib")
    make_package(tmp_path / "flib", "flib")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["hlib", "slib", "flib", "idna"]\n\n'
        '[tool.uv]\nexclude-newer = "2025-07-01T00:00:00Z"\n\n'
        "[tool.uv.sources]\n"
        f'hlib = {{ git = "{repo.as_uri()}", tag = "v1.0" }}\n'
        'slib = { path = "../slib" }\n'
        'flib = { path = "../flib", editable = true }\n'
        f'idna = {{ url = "{IDNA_URL}" }}\n'
    )
    kiln("sync", "--project", str(root), "--python", "3.12", check=True)
    lock = (root / "pylock.toml").read_text()
    assert f'commit-id = "{commit}"' in lock
    assert 'directory = { path = "../slib", editable = false }' in lock
    assert 'directory = { path = "../flib", editable = true }' in lock
    assert f'url = "{IDNA_URL}"' in lock
    venv = root / ".venv"
    assert installed_versions(venv) == {
        "hlib": "1.0", "slib": "1.0", "flib": "1.0", "idna": "3.10", "six": "1.17.0",
    }  # fmt: skip
    done = subprocess.run(
        [str(python_of(venv)), "-c", "import hlib, slib, flib; print(flib.__file__)"],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == str(tmp_path / "flib" / "flib" / "__init__.py"), done.stderr

    # A second sync after deleting `.venv` builds nothing: the wheels come from the cache.
    built = built_wheels(tmp_path / "kiln-cache")
    assert {p.name.split("-")[0] for p in built} >= {"hlib", "slib", "flib"}
    shutil.rmtree(venv)
    kiln("sync", "--project", str(root), "--python", "3.12", check=True)
    assert built_wheels(tmp_path / "kiln-cache") == built
    assert installed_versions(venv)["hlib"] == "1.0"

    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed")
    other = tmp_path / "other"
    kiln("venv", str(other), "--python", "3.12", check=True)
    installed = uv_install_lock(uv, root / "pylock.toml", other, tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert installed_versions(other) == installed_versions(venv)
