"""Crafted malicious wheels served by the test index: each is refused with a clear error,
before anything of it reaches the environment or a trusted cache entry."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import kiln_env
from tests.support.exactness import cache_problems
from tests.support.hostile_wheels import Crafted, Member, serve, symlink
from tests.support.index_server import IndexServer

PYTHON = "3.12"

# name, the wheel, what the error says
HOSTILE: list[tuple[str, Crafted, str]] = [
    (
        "parent-path",
        Crafted("evil-a", "1.0", [Member("../../../escaped_a.py", b"X = 1\n")]),
        "contains the unsafe path `../../../escaped_a.py`",
    ),
    (
        "absolute-path",
        Crafted("evil-b", "1.0", [Member("/tmp/kiln_escaped_b.py", b"X = 1\n")]),
        "contains the unsafe path `/tmp/kiln_escaped_b.py`",
    ),
    (
        "parent-inside-data",
        Crafted(
            "evil-c",
            "1.0",
            [Member("evil_c-1.0.data/purelib/../../../../escaped_c.py", b"X = 1\n")],
        ),
        "unsafe path",
    ),
    (
        "symlink-out",
        Crafted("evil-d", "1.0", [symlink("evil_d/passwd", "../../../../../../etc/passwd")]),
        "a symbolic link to `../../../../../../etc/passwd` outside the wheel",
    ),
    (
        "symlink-absolute",
        Crafted("evil-e", "1.0", [symlink("evil_e/shadow", "/etc/shadow")]),
        "a symbolic link to `/etc/shadow` outside the wheel",
    ),
    (
        "record-lies",
        Crafted(
            "evil-f",
            "1.0",
            [Member("evil_f/__init__.py", b"import os\n", record_hash="sha256=" + "A" * 43)],
        ),
        "does not match the hash its RECORD lists",
    ),
    (
        "metadata-names-another-project",
        Crafted("evil-g", "1.0", [Member("evil_g/__init__.py", b"")], metadata_name="pip"),
        "says in its METADATA it is `pip 1.0`",
    ),
    (
        "metadata-names-another-version",
        Crafted("evil-h", "1.0", [Member("evil_h/__init__.py", b"")], metadata_version="9.0"),
        "says in its METADATA it is `evil-h 9.0`",
    ),
    (
        "dist-info-of-another-project",
        Crafted(
            "evil-i", "1.0", [Member("evil_i/__init__.py", b"")], dist_info_name="pip-1.0.dist-info"
        ),
        "holds the metadata of another project",
    ),
]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, Path]]:
    base = tmp_path_factory.mktemp("hostile")
    server = IndexServer(base / "index")
    for _, crafted, _ in HOSTILE:
        serve(server, crafted, honest_metadata=True)
    serve(
        server,
        Crafted(
            "inward-link",
            "1.0",
            [
                Member("inward_link/__init__.py", b"X = 1\n"),
                symlink("inward_link/alias.py", "__init__.py"),
            ],
        ),
    )
    serve(
        server,
        Crafted("bomb", "1.0", [Member("bomb/zeros.bin", b"\0" * (4 << 20))]),
    )
    venv = base / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "kiln", "venv", str(venv), "--python", PYTHON],
        env=kiln_env(base / "cache"),
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"no Python {PYTHON}: {made.stderr}")
    try:
        yield server, venv
    finally:
        server.stop()


def pip_install(
    server: IndexServer, venv: Path, cache: Path, name: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "kiln", "pip", "install", name,
            "--python", str(venv / "bin" / "python"), "--index-url", server.index_url(),
        ],
        env=kiln_env(cache, extra),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def site(venv: Path) -> Path:
    return venv / "lib" / f"python{PYTHON}" / "site-packages"


@pytest.mark.parametrize(("case", "crafted", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_wheel_is_refused_with_a_clear_error(
    target: tuple[IndexServer, Path], tmp_path: Path, case: str, crafted: Crafted, message: str
) -> None:
    server, venv = target
    cache = tmp_path / "cache"
    done = pip_install(server, venv, cache, crafted.name)
    assert done.returncode != 0
    assert "error:" in done.stderr and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(site(venv).glob(f"{crafted.name.replace('-', '_')}*")), "nothing installed"
    assert not list(venv.parent.rglob("escaped_*")), "nothing written outside"
    assert not Path("/tmp/kiln_escaped_b.py").exists()
    assert cache_problems(cache) == []
    assert not list((cache / "wheels-v1").glob("*/")), "no cache entry of a refused wheel"


def test_a_link_that_stays_inside_the_wheel_installs_as_a_file(
    target: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    server, venv = target
    done = pip_install(server, venv, tmp_path / "cache", "inward-link")
    assert done.returncode == 0, done.stderr
    alias = site(venv) / "inward_link" / "alias.py"
    assert alias.is_file() and not alias.is_symlink()


def test_a_wheel_inflating_past_the_limit_is_refused_and_the_error_names_the_setting(
    target: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    server, venv = target
    limit = {"KILN_MAX_WHEEL_UNPACKED_SIZE": "1M"}
    done = pip_install(server, venv, tmp_path / "cache", "bomb", limit)
    assert done.returncode != 0
    assert "would unpack to 4.0 MiB, more than the 1.0 MiB kiln allows one wheel" in done.stderr
    assert "KILN_MAX_WHEEL_UNPACKED_SIZE" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "cache" / "wheels-v1").glob("*/"))
    # Raised, the limit lets the same wheel through.
    raised = pip_install(
        server, venv, tmp_path / "cache", "bomb", {"KILN_MAX_WHEEL_UNPACKED_SIZE": "8M"}
    )
    assert raised.returncode == 0, raised.stderr


def test_a_size_limit_kiln_cannot_read_is_an_error(
    target: tuple[IndexServer, Path], tmp_path: Path
) -> None:
    server, venv = target
    done = pip_install(
        server, venv, tmp_path / "cache", "bomb", {"KILN_MAX_WHEEL_UNPACKED_SIZE": "lots"}
    )
    assert done.returncode != 0
    assert "`KILN_MAX_WHEEL_UNPACKED_SIZE=lots` is not a size" in done.stderr
    assert "Traceback" not in done.stderr
