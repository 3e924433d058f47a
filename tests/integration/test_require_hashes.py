"""`--hash` in requirements files is checked by default; `--require-hashes` demands one for
every package; `--no-verify-hashes` turns the check off (uv's three settings)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

PYTHON = "3.12"
ALPHA = Pkg("alpha", "1.0", requires_dist=["beta"])
BETA = Pkg("beta", "2.0")


@pytest.fixture
def world(index_server: IndexServer, tmp_path: Path) -> tuple[IndexServer, Path]:
    index_server.add(ALPHA, BETA)
    venv = tmp_path / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "kiln", "venv", str(venv), "--python", PYTHON],
        env=kiln_env(tmp_path / "cache"),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"no Python {PYTHON}")
    return index_server, venv


def sha(server: IndexServer, project: str, algo: str = "sha256") -> str:
    (stored,) = server.files(project)
    return hashlib.new(algo, stored.data).hexdigest()


def install(
    world: tuple[IndexServer, Path],
    tmp_path: Path,
    lines: str,
    *flags: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    server, venv = world
    req = tmp_path / "requirements.txt"
    req.write_text(lines)
    return subprocess.run(
        [
            sys.executable, "-m", "kiln", "pip", "install", "-r", str(req), *flags,
            "--python", str(venv / "bin" / "python"), "--index-url", server.index_url(),
        ],
        env=kiln_env(tmp_path / "cache", env),
        capture_output=True,
        text=True,
    )  # fmt: skip


def test_a_listed_hash_that_matches_installs(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    done = install(world, tmp_path, f"beta==2.0 --hash=sha256:{sha(world[0], 'beta')}\n")
    assert done.returncode == 0, done.stderr
    assert installed_versions(world[1])["beta"] == "2.0"


def test_a_listed_hash_that_does_not_match_is_refused(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    done = install(world, tmp_path, f"beta==2.0 --hash=sha256:{'0' * 64}\n")
    assert done.returncode != 0
    assert "error: hash mismatch for `beta-2.0-py3-none-any.whl`" in done.stderr
    assert "Traceback" not in done.stderr
    assert "beta" not in installed_versions(world[1])
    off = install(world, tmp_path, f"beta==2.0 --hash=sha256:{'0' * 64}\n", "--no-verify-hashes")
    assert off.returncode == 0, off.stderr


def test_a_hash_of_an_algorithm_the_index_does_not_list_is_checked_on_download(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    good = install(world, tmp_path, f"beta==2.0 --hash=sha512:{sha(world[0], 'beta', 'sha512')}\n")
    assert good.returncode == 0, good.stderr
    again = tmp_path / "again"  # a cold cache: the wheel is downloaded and checked again
    again.mkdir()
    bad = install(world, again, f"beta==2.0 --hash=sha512:{'a' * 128}\n", "--reinstall")
    assert bad.returncode != 0
    assert "hash mismatch for `beta-2.0-py3-none-any.whl`" in bad.stderr
    assert "expected sha512:" in bad.stderr


def test_require_hashes_needs_one_for_every_package_dependencies_included(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    only_alpha = f"alpha==1.0 --hash=sha256:{sha(world[0], 'alpha')}\n"
    done = install(world, tmp_path, only_alpha, "--require-hashes")
    assert done.returncode != 0
    assert "`beta==2.0` has no `--hash`, which `--require-hashes` needs" in done.stderr
    by_env = install(world, tmp_path, only_alpha, env={"UV_REQUIRE_HASHES": "1"})
    assert by_env.returncode != 0 and "--require-hashes" in by_env.stderr
    both = only_alpha + f"beta==2.0 --hash=sha256:{sha(world[0], 'beta')}\n"
    assert install(world, tmp_path, both, "--require-hashes").returncode == 0
    assert installed_versions(world[1]) == {"alpha": "1.0", "beta": "2.0"}


def test_require_hashes_needs_pinned_requirements(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    done = install(
        world, tmp_path, f"beta>=2 --hash=sha256:{sha(world[0], 'beta')}\n", "--require-hashes"
    )
    assert done.returncode != 0
    assert "`beta>=2` is not pinned to one version, which `--require-hashes` needs" in done.stderr


def test_a_malformed_hash_option_is_an_error(
    world: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    done = install(world, tmp_path, "beta==2.0 --hash=whirlpool\n")
    assert done.returncode != 0
    assert "`--hash=whirlpool` of `beta` is not a hash kiln can check" in done.stderr
