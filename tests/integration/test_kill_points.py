"""SIGKILL at named points of download, unpack, link, uninstall, venv creation and file writes;
the next `kiln sync` must leave exactly what a clean sync leaves.

Each case runs kiln with `KILN_TEST_KILL_AT=<point>[:<n>]` (see `kiln.core.kill_points`),
checks that it died by SIGKILL and that the partial state of that point is really there, then
runs `kiln sync` again and compares the environment byte for byte (every file's sha256, every
link, every folder), `pylock.toml`, the RECORD hashes, and every unpacked cache entry, with
an environment a clean sync made at the same path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.exactness import cache_problems, record_problems, tree_snapshot
from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for
from tests.support.wheels import Pkg

PYTHON = "3.12"
OTHER_PYTHON = "3.11"  # `sync --python 3.11` on a 3.12 `.venv` clears and remakes it
ALPHA_1 = Pkg(
    "alpha",
    "1.0",
    requires_dist=["beta"],
    files={
        "alpha/__init__.py": "def main():\n    print('alpha 1')\n",
        "alpha/core.py": "X = 1\n",
        "alpha/old/__init__.py": "",
        "alpha/old/gone.py": "Y = 1\n",
    },
    entry_points={"alpha-cli": "alpha:main"},
)
ALPHA_2 = Pkg(
    "alpha",
    "2.0",
    requires_dist=["beta"],
    files={
        "alpha/__init__.py": "def main():\n    print('alpha 2')\n",
        "alpha/core.py": "X = 2\n",
        "alpha/new.py": "Z = 2\n",
    },
    entry_points={"alpha-cli": "alpha:main"},
)
BETA = Pkg(
    "beta",
    "1.0",
    files={
        "beta/__init__.py": "",
        "beta/a.py": "A = 1\n",
        "beta/sub/__init__.py": "",
        "beta/sub/b.py": "B = 1\n",
    },
    data_scripts={"beta-tool": "#!python\nprint('beta')\n"},
)
GAMMA = Pkg("gamma", "1.0")


def pyproject(alpha: str) -> str:
    return (
        '[project]\nname = "victim"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        f'dependencies = ["alpha=={alpha}", "beta"]\n'
    )


@dataclass
class World:
    server: IndexServer
    root: Path
    venv: dict[str, str]
    lock: str
    other_venv: dict[str, str]  # the same lock synced on OTHER_PYTHON

    def kiln(
        self, cache: Path, *args: str, kill: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        extra = {"KILN_TEST_KILL_AT": kill} if kill else {}
        return subprocess.run(
            [sys.executable, "-m", "kiln", *args, "--default-index", self.server.index_url()],
            cwd=self.root,
            env=kiln_env(cache, extra),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def sync(
        self, cache: Path, kill: str | None = None, python: str = PYTHON
    ) -> subprocess.CompletedProcess[str]:
        return self.kiln(cache, "sync", "--python", python, "--no-install-project", kill=kill)

    def reset(self, alpha: str) -> None:
        shutil.rmtree(self.root / ".venv", ignore_errors=True)
        for leftover in self.root.iterdir():
            if leftover.name != ".venv":
                leftover.unlink()
        (self.root / "pyproject.toml").write_text(pyproject(alpha))

    @property
    def site(self) -> Path:
        return self.root / ".venv" / "lib" / f"python{PYTHON}" / "site-packages"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if interpreter_for(PYTHON) is None:
        pytest.skip(f"no Python {PYTHON}")
    server = IndexServer(tmp_path_factory.mktemp("kill-index"))
    server.add(ALPHA_1, ALPHA_2, BETA, GAMMA)
    base = tmp_path_factory.mktemp("kill")
    root = base / "victim"
    root.mkdir()
    world = World(server, root, {}, "", {})
    try:
        world.reset("2.0")
        done = world.sync(base / "reference-cache")
        assert done.returncode == 0, done.stderr
        world.venv = tree_snapshot(root / ".venv")
        world.lock = (root / "pylock.toml").read_text()
        shutil.rmtree(root / ".venv")
        done = world.sync(base / "reference-cache", python=OTHER_PYTHON)
        assert done.returncode == 0, done.stderr
        world.other_venv = tree_snapshot(root / ".venv")
        shutil.rmtree(root / ".venv")
        assert world.sync(base / "reference-cache").returncode == 0
        assert record_problems(world.site) == []
        yield world
    finally:
        server.stop()


Evidence = Callable[[World, Path], bool]


def _glob(root: Path, pattern: str) -> list[Path]:
    return list(root.glob(pattern)) if root.is_dir() else []


def part_file(w: World, cache: Path) -> bool:
    return bool(_glob(cache / "tmp-v1", "fetch-*/*.part"))


def staged_unpack(w: World, cache: Path) -> bool:
    staged = [p for p in _glob(cache / "tmp-v1", "*") if not p.name.startswith("fetch-")]
    return bool(staged) and len(_glob(cache / "wheels-v1", "*/")) < 2


def unpacked_not_installed(w: World, cache: Path) -> bool:
    return bool(_glob(cache / "wheels-v1", "*/")) and not _glob(w.site, "*.dist-info")


def install_scratch(w: World, cache: Path) -> bool:
    return bool(_glob(w.site, ".kiln-install-*"))


def incomplete_without_record(w: World, cache: Path) -> bool:
    marked = _glob(w.site, "*.dist-info/KILN_INCOMPLETE")
    return bool(marked) and any(not (m.parent / "RECORD").exists() for m in marked)


def incomplete_with_record(w: World, cache: Path) -> bool:
    marked = _glob(w.site, "*.dist-info/KILN_INCOMPLETE")
    return any((m.parent / "RECORD").exists() for m in marked)


def old_marked(w: World, cache: Path) -> bool:
    return (w.site / "alpha-1.0.dist-info" / "KILN_INCOMPLETE").exists()


def old_half_moved(w: World, cache: Path) -> bool:
    return old_marked(w, cache) and bool(_glob(w.site, ".kiln-uninstall-*/*"))


def old_files_gone_record_kept(w: World, cache: Path) -> bool:
    old = w.site / "alpha-1.0.dist-info"
    return (
        (old / "RECORD").exists()
        and not (old / "METADATA").exists()
        and not (w.site / "alpha" / "old" / "gone.py").exists()
    )


def new_in_old_stash_gone(w: World, cache: Path) -> bool:
    # The stashes are deleted only once every wheel of the step is installed.
    return (
        (w.site / "alpha-2.0.dist-info" / "RECORD").exists()
        and not _glob(w.site, "alpha-1.0.dist-info")
        and not _glob(w.site, ".kiln-uninstall-*")
    )


def old_gone_new_missing(w: World, cache: Path) -> bool:
    return not _glob(w.site, "alpha-*.dist-info") and (w.site / "beta-1.0.dist-info").is_dir()


def venv_only_lock(w: World, cache: Path) -> bool:
    return [p.name for p in (w.root / ".venv").iterdir()] == [".lock"]


def venv_config_being_written(w: World, cache: Path) -> bool:
    names = sorted(p.name for p in (w.root / ".venv").iterdir())
    return len(names) == 2 and names[0] == ".lock" and names[1].startswith(".pyvenv.cfg.")


def venv_config_no_python(w: World, cache: Path) -> bool:
    venv = w.root / ".venv"
    return (venv / "pyvenv.cfg").is_file() and not (venv / "bin" / "python").exists()


def venv_scripts_no_python(w: World, cache: Path) -> bool:
    return venv_config_no_python(w, cache) and (w.root / ".venv/bin/activate").is_file()


def venv_without_packages(w: World, cache: Path) -> bool:
    return (w.root / ".venv/bin/python").exists() and not _glob(w.site, "*.dist-info")


def half_cleared(w: World, cache: Path) -> bool:
    venv = w.root / ".venv"
    return (venv / "pyvenv.cfg").is_file() and not (venv / "bin").exists()


def lock_temp_only(w: World, cache: Path) -> bool:
    return not (w.root / "pylock.toml").exists() and bool(_glob(w.root, ".pylock.toml.*.tmp"))


def pyproject_unchanged(w: World, cache: Path) -> bool:
    return "gamma" not in (w.root / "pyproject.toml").read_text() and bool(
        _glob(w.root, ".pyproject.toml.*.tmp")
    )


# point, how the killed run starts ("fresh": no .venv, no lock, a cold cache; "upgrade":
# synced with alpha 1.0, then pyproject asks for 2.0; "add": `kiln add gamma`), evidence.
POINTS: list[tuple[str, str, Evidence]] = [
    ("download-chunk", "fresh", part_file),
    ("download-verified", "fresh", part_file),
    ("unpack-member:1", "fresh", staged_unpack),
    ("unpack-member:3", "fresh", staged_unpack),
    ("unpack-extracted", "fresh", staged_unpack),
    ("unpack-renamed", "fresh", unpacked_not_installed),
    ("install-staged", "fresh", install_scratch),
    ("install-begun", "fresh", incomplete_without_record),
    ("install-link:2", "fresh", incomplete_without_record),
    ("install-link:6", "fresh", incomplete_without_record),
    ("install-record", "fresh", incomplete_without_record),
    ("install-recorded", "fresh", incomplete_with_record),
    ("write:pylock.toml", "fresh", lock_temp_only),
    ("write:pyvenv.cfg", "fresh", venv_config_being_written),
    ("venv-prepared", "fresh", venv_only_lock),
    ("venv-config-written", "fresh", venv_config_no_python),
    ("venv-scripts-written", "fresh", venv_scripts_no_python),
    ("venv-python-linked", "fresh", venv_without_packages),
    ("uninstall-marked", "upgrade", old_marked),
    ("uninstall-move:1", "upgrade", old_half_moved),
    ("uninstall-move:4", "upgrade", old_half_moved),
    ("uninstall-moved", "upgrade", old_files_gone_record_kept),
    ("uninstall-stashes-deleted", "upgrade", new_in_old_stash_gone),
    ("uninstall-listing-removed:1", "upgrade", old_marked),
    ("execute-removed", "upgrade", old_gone_new_missing),
    ("install-link:3", "upgrade", incomplete_without_record),
    ("write:pyproject.toml", "add", pyproject_unchanged),
    ("venv-clearing:1", "switch", half_cleared),
    ("venv-clearing:3", "switch", half_cleared),
]


@pytest.mark.parametrize(("point", "start", "evidence"), POINTS, ids=[p[0] for p in POINTS])
def test_a_kill_at_each_point_is_repaired_exactly_by_the_next_sync(
    world: World, tmp_path: Path, point: str, start: str, evidence: Evidence
) -> None:
    cache = tmp_path / "cache"
    if start == "upgrade":
        world.reset("1.0")
        done = world.sync(cache)
        assert done.returncode == 0, done.stderr
        (world.root / "pyproject.toml").write_text(pyproject("2.0"))
        killed = world.sync(cache, kill=point)
    elif start == "switch":
        world.reset("2.0")
        done = world.sync(cache)
        assert done.returncode == 0, done.stderr
        killed = world.sync(cache, kill=point, python=OTHER_PYTHON)
    elif start == "add":
        world.reset("2.0")
        killed = world.kiln(cache, "add", "gamma", "--python", PYTHON, kill=point)
    else:
        world.reset("2.0")
        killed = world.sync(cache, kill=point)

    assert killed.returncode == -9, f"not killed at {point}: {killed.returncode}\n{killed.stderr}"
    assert evidence(world, cache), f"no sign of the kill at {point}"

    python = OTHER_PYTHON if start == "switch" else PYTHON
    repaired = world.sync(cache, python=python)
    assert repaired.returncode == 0, repaired.stderr
    assert "Traceback" not in repaired.stderr
    site = world.root / ".venv" / "lib" / f"python{python}" / "site-packages"
    assert record_problems(site) == []
    assert cache_problems(cache) == []
    assert (world.root / "pylock.toml").read_text() == world.lock
    got = tree_snapshot(world.root / ".venv")
    want = world.other_venv if start == "switch" else world.venv
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(k for k in set(got) & set(want) if got[k] != want[k])
    assert (missing, extra, differ) == ([], [], [])
