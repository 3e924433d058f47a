"""Seed scenarios S1-S4 and S6: lock once with the real CLI, then read the lock as each
platform would and check the exact torch build it gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.core.errors import KilnError
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import select
from kiln.python.platforms import (
    LINUX_AARCH64,
    LINUX_X86_64,
    MACOS_ARM64,
    WINDOWS_AMD64,
    Platform,
    platform_environment,
)
from tests.support import seed
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

# The seed's S2 plus jinja2: the CPU index lists a newer jinja2 that must not be taken.
S2 = seed.S2.replace('  "torchvision>=0.20.1",\n', '  "torchvision>=0.20.1",\n  "jinja2",\n')
S1, S3, S4 = seed.S1, seed.S3, seed.S4

PLATFORMS = (LINUX_X86_64, LINUX_AARCH64, MACOS_ARM64, WINDOWS_AMD64)
PYTHONS = ((3, 12), (3, 13))


def project(tmp_path: Path, text: str, server: IndexServer) -> Path:
    root = tmp_path / "project"
    root.mkdir(parents=True)
    text = text.replace("https://download.pytorch.org", server.url)
    (root / "pyproject.toml").write_text(text)
    return root


def lock(kiln, root: Path, server: IndexServer):  # type: ignore[no-untyped-def]
    done = kiln(
        "lock", "--project", str(root), "--default-index", server.index_url("pypi"), check=True
    )
    assert (root / "pylock.toml").exists(), done.stderr
    return load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")


def builds(
    locked, platform: Platform, python: tuple[int, int], extras: frozenset[str] = frozenset()
) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = platform_environment(platform, python)
    return {
        s.package.name: str(s.package.version)
        for s in select(locked, env, extras=extras, groups=frozenset())
    }


def test_s1_default_pypi_gives_cuda_on_linux_x86_64_and_cpu_elsewhere(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    locked = lock(kiln, project(tmp_path, S1, torch_server), torch_server)
    for platform in PLATFORMS:
        for python in PYTHONS:
            got = builds(locked, platform, python)
            assert got["torch"] == "2.5.1", (platform.key, python)
            assert got["torchvision"] == "0.20.1"
            has_nvidia = any(n.startswith("nvidia-") for n in got)
            assert has_nvidia == (platform is LINUX_X86_64), (platform.key, python)


def test_s2_cpu_builds_everywhere_but_macos(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    locked = lock(kiln, project(tmp_path, S2, torch_server), torch_server)
    for python in PYTHONS:
        assert builds(locked, LINUX_X86_64, python)["torch"] == "2.5.1+cpu"
        assert builds(locked, LINUX_AARCH64, python)["torch"] == "2.5.1+cpu"
        assert builds(locked, WINDOWS_AMD64, python)["torch"] == "2.5.1+cpu"
        assert builds(locked, MACOS_ARM64, python)["torch"] == "2.5.1"
        assert builds(locked, LINUX_X86_64, python)["torchvision"] == "0.20.1+cpu"
        # explicit: the CPU index lists jinja2 3.1.99, but jinja2 is not sourced from it
        assert builds(locked, LINUX_X86_64, python)["jinja2"] == "3.1.4"
        assert not any(n.startswith("nvidia-") for n in builds(locked, LINUX_X86_64, python))


def test_s3_per_platform_sources(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locked = lock(kiln, project(tmp_path, S3, torch_server), torch_server)
    for python in PYTHONS:
        linux = builds(locked, LINUX_X86_64, python)
        assert linux["torch"] == "2.5.1+cu124"
        assert any(n.startswith("nvidia-") for n in linux)
        assert builds(locked, WINDOWS_AMD64, python)["torch"] == "2.5.1+cpu"
        assert builds(locked, MACOS_ARM64, python)["torch"] == "2.5.1"
        # the CUDA index has no Linux aarch64 wheels: the lock says so instead of failing
        with pytest.raises(KilnError, match="aarch64"):
            builds(locked, LINUX_AARCH64, python)


def test_s4_extras_pick_the_build(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locked = lock(kiln, project(tmp_path, S4, torch_server), torch_server)
    cpu, cu124 = frozenset({"cpu"}), frozenset({"cu124"})
    for python in PYTHONS:
        assert builds(locked, LINUX_X86_64, python, cpu)["torch"] == "2.5.1+cpu"
        assert builds(locked, WINDOWS_AMD64, python, cpu)["torch"] == "2.5.1+cpu"
        assert builds(locked, MACOS_ARM64, python, cpu)["torch"] == "2.5.1"
        linux_cuda = builds(locked, LINUX_X86_64, python, cu124)
        assert linux_cuda["torch"] == "2.5.1+cu124"
        assert any(n.startswith("nvidia-") for n in linux_cuda)
        windows_cuda = builds(locked, WINDOWS_AMD64, python, cu124)
        assert windows_cuda["torch"] == "2.5.1+cu124"
        assert not any(n.startswith("nvidia-") for n in windows_cuda)
        assert not any(n.startswith("nvidia-") for n in builds(locked, LINUX_X86_64, python, cpu))
        assert "torch" not in builds(locked, LINUX_X86_64, python)


def test_s6_no_wheels_for_the_required_python_is_a_clear_error(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg(
            "torch",
            "2.5.1",
            tags=[
                "cp312-cp312-manylinux_2_28_x86_64",
                "cp312-cp312-win_amd64",
                "cp312-cp312-macosx_11_0_arm64",
            ],
        )
    )
    root = project(
        tmp_path,
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.13"\ndependencies = ["torch>=2.5.1"]\n',
        index_server,
    )
    done = kiln("lock", "--project", str(root), "--default-index", index_server.index_url())
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "torch" in done.stderr and "3.13" in done.stderr
    assert "cp312" in done.stderr  # names the wheels that do exist
    assert "hint:" in done.stderr
    assert not (root / "pylock.toml").exists()


def test_relocking_is_byte_identical_keeps_pins_and_upgrades_on_request(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("alpha", "1.0"), Pkg("beta", "1.0"))
    root = project(
        tmp_path,
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\ndependencies = ["alpha", "beta"]\n',
        index_server,
    )
    args = ("lock", "--project", str(root), "--default-index", index_server.index_url())
    kiln(*args, check=True)
    first = (root / "pylock.toml").read_text()
    kiln(*args, check=True)
    assert (root / "pylock.toml").read_text() == first, "same inputs, same bytes"
    assert (
        kiln(
            "lock", "--check", "--project", str(root), "--default-index", index_server.index_url()
        ).returncode
        == 0
    )

    index_server.add(Pkg("alpha", "2.0"), Pkg("beta", "2.0"))
    kiln(*args, check=True)
    kept = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert {p.name: str(p.version) for p in kept.packages} == {"alpha": "1.0", "beta": "1.0"}
    kiln(*args, "--upgrade-package", "alpha", check=True)
    one = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert {p.name: str(p.version) for p in one.packages} == {"alpha": "2.0", "beta": "1.0"}
    kiln(*args, "--upgrade", check=True)
    both = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert {p.name: str(p.version) for p in both.packages} == {"alpha": "2.0", "beta": "2.0"}


def test_check_fails_when_pyproject_changed_and_leaves_the_lock(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("alpha", "1.0"), Pkg("gamma", "1.0"))
    root = project(
        tmp_path,
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\ndependencies = ["alpha"]\n',
        index_server,
    )
    kiln("lock", "--project", str(root), "--default-index", index_server.index_url(), check=True)
    before = (root / "pylock.toml").read_bytes()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["alpha"]', '["alpha", "gamma"]'))
    done = kiln(
        "lock", "--check", "--project", str(root), "--default-index", index_server.index_url()
    )
    assert done.returncode == 1
    assert "out of date" in done.stderr and "hint: run `kiln lock`" in done.stderr
    assert (root / "pylock.toml").read_bytes() == before


def test_credentials_never_reach_the_lock(kiln, index_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("secretpkg", "1.0"), index="private")
    index_server.require_auth("private", "alice", "s3cr3t-token")
    url = index_server.index_url("private").replace("http://", "http://alice:s3cr3t-token@")
    root = project(
        tmp_path,
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\ndependencies = ["secretpkg"]\n',
        index_server,
    )
    done = kiln("lock", "--project", str(root), "--default-index", url, check=True)
    text = (root / "pylock.toml").read_text()
    assert "secretpkg" in text
    assert "s3cr3t-token" not in text and "alice" not in text
    assert "s3cr3t-token" not in done.stderr + done.stdout
