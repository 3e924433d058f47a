"""Several kiln processes at once on one project or one cache: they take turns on file locks,
all succeed, and what they leave is exactly what one process alone leaves."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.exactness import cache_problems, record_problems, tree_snapshot
from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

PYTHON = "3.12"
PACKAGES = [
    Pkg("alpha", "1.0", requires_dist=["beta", "gamma"], entry_points={"alpha": "alpha:main"}),
    Pkg("beta", "2.0", files={f"beta/m{i}.py": f"N = {i}\n" for i in range(40)}),
    Pkg("gamma", "3.0", data_scripts={"gamma-tool": "#!python\nprint('g')\n"}),
]
EXPECTED = {"alpha": "1.0", "beta": "2.0", "gamma": "3.0"}
WAITING = "waiting for another kiln process to release"

pytestmark = pytest.mark.skipif(
    interpreter_for(PYTHON) is None,
    reason=f"no Python {PYTHON}",
)


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "shared"\nversion = "0.1"\nrequires-python = ">=3.12"\n'
        'dependencies = ["alpha"]\n'
    )
    return root


def kiln_cmd(server: IndexServer, *args: str) -> list[str]:
    return [sys.executable, "-m", "kiln", *args, "--default-index", server.index_url()]


def sync_cmd(server: IndexServer, root: Path) -> list[str]:
    return kiln_cmd(
        server, "sync", "--project", str(root), "--python", PYTHON, "--no-install-project"
    )


def run_together(commands: list[list[str]], env: dict[str, str]) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = []
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, err))
    return results


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_syncs_of_one_project_all_succeed_and_agree(
    index_server: IndexServer, tmp_path: Path, processes: int
) -> None:
    index_server.add(*PACKAGES)
    root = make_project(tmp_path / "proj")
    env = kiln_env(tmp_path / "cache")
    results = run_together([sync_cmd(index_server, root)] * processes, env)
    assert all(code == 0 for code, _ in results), results
    assert not any("Traceback" in err or "error:" in err for _, err in results), results
    # One of them made the environment and installed; the others found it done.
    assert sum("Installed 3 packages" in err for _, err in results) == 1, results
    site = root / ".venv" / "lib" / f"python{PYTHON}" / "site-packages"
    assert record_problems(site) == []
    assert cache_problems(tmp_path / "cache") == []
    assert installed_versions(root / ".venv") == EXPECTED
    together = tree_snapshot(root / ".venv")
    lock = (root / "pylock.toml").read_text()

    shutil.rmtree(root / ".venv")
    (root / "pylock.toml").unlink()
    alone = subprocess.run(
        sync_cmd(index_server, root), env=kiln_env(tmp_path / "cache-alone"), capture_output=True
    )
    assert alone.returncode == 0
    assert tree_snapshot(root / ".venv") == together
    assert (root / "pylock.toml").read_text() == lock


def test_a_sync_waiting_on_the_environment_lock_says_so(
    index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(*PACKAGES)
    root = make_project(tmp_path / "proj")
    (root / ".venv").mkdir()
    holder = os.open(root / ".venv" / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as another kiln process would hold it
    proc = subprocess.Popen(
        sync_cmd(index_server, root),
        env=kiln_env(tmp_path / "cache"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # blocks until kiln says something
        assert WAITING in first and str(root / ".venv" / ".lock") in first
        assert not (root / ".venv" / "pyvenv.cfg").exists(), "it waited before touching .venv"
    finally:
        os.close(holder)  # releases the lock
    _out, rest = proc.communicate(timeout=300)
    assert proc.returncode == 0, first + rest
    assert installed_versions(root / ".venv") == EXPECTED


def test_concurrent_pip_installs_sharing_one_cache(
    index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(*PACKAGES)
    cache = tmp_path / "cache"
    env = kiln_env(cache)
    venvs = [tmp_path / f"venv{i}" for i in range(4)]
    for venv in venvs:
        made = subprocess.run(
            [sys.executable, "-m", "kiln", "venv", str(venv), "--python", PYTHON],
            env=env,
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
    commands = [
        kiln_cmd(index_server, "pip", "install", "alpha", "--python", str(v / "bin" / "python"))
        for v in venvs
    ]
    results = run_together(commands, env)
    assert all(code == 0 for code, _ in results), results
    assert cache_problems(cache) == []
    assert len(list((cache / "wheels-v1").glob("*/"))) == 3, "each wheel unpacked once"
    for venv in venvs:
        assert installed_versions(venv) == EXPECTED
        assert record_problems(venv / "lib" / f"python{PYTHON}" / "site-packages") == []


def test_concurrent_pip_installs_into_one_environment_take_turns(
    index_server: IndexServer, tmp_path: Path
) -> None:
    index_server.add(*PACKAGES)
    env = kiln_env(tmp_path / "cache")
    venv = tmp_path / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "kiln", "venv", str(venv), "--python", PYTHON],
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    command = kiln_cmd(
        index_server, "pip", "install", "alpha", "--python", str(venv / "bin" / "python")
    )
    results = run_together([command] * 3, env)
    assert all(code == 0 for code, _ in results), results
    assert sum("Installed 3 packages" in err for _, err in results) == 1, results
    assert installed_versions(venv) == EXPECTED
    assert record_problems(venv / "lib" / f"python{PYTHON}" / "site-packages") == []
