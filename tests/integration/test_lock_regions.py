"""`kiln lock` over the marker space, through the real CLI against the local index: newest
versions per Python, extras of dependencies kept to their extra, the choice of no extra,
Pythons past the newest interpreter here, relocks that keep every fork's pins."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.lock.model import Lock
from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import LockSelectError, select
from kiln.python.platforms import (
    LINUX_AARCH64,
    LINUX_X86_64,
    MACOS_ARM64,
    WINDOWS_AMD64,
    Platform,
    platform_environment,
)
from tests.integration.test_lock_scenarios import S4, project
from tests.integration.test_lock_scenarios import lock as lock_seed
from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

EVERYWHERE = [
    f"cp3{m}-cp3{m}-{p}"
    for m in range(9, 16)
    for p in ("manylinux_2_28_x86_64", "manylinux_2_28_aarch64", "macosx_11_0_arm64", "win_amd64")
]


def write(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[project]\nname = "p"\nversion = "0"\n{body}')
    return root


def locked(kiln, root: Path, server: IndexServer, *extra: str) -> Lock:  # type: ignore[no-untyped-def]
    kiln("lock", "--project", str(root), "--default-index", server.index_url(), *extra, check=True)
    return load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")


def picks(
    lock: Lock,
    platform: Platform,
    python: tuple[int, int],
    extras: frozenset[str] = frozenset(),
) -> dict[str, str]:
    env = platform_environment(platform, python)
    return {
        s.package.name: str(s.package.version)
        for s in select(lock, env, extras=extras, groups=frozenset())
    }


def refusal(lock: Lock, platform: Platform, python: tuple[int, int], extras: frozenset[str]) -> str:
    """The words of select's refusal there; fails when it installs instead."""
    with pytest.raises(LockSelectError) as caught:
        picks(lock, platform, python, extras)
    return " ".join((caught.value.message, *caught.value.causes))


def scientific(server: IndexServer) -> None:
    server.add(
        Pkg("numpy", "2.0.2", requires_python=">=3.9", tags=EVERYWHERE),
        Pkg("numpy", "2.2.6", requires_python=">=3.10", tags=EVERYWHERE),
        Pkg("numpy", "2.5.0", requires_python=">=3.11", tags=EVERYWHERE),
        Pkg("pandas", "2.2.0", ["numpy>=1.22"], requires_python=">=3.9"),
        Pkg("pandas", "3.0.0", ["numpy>=2.3"], requires_python=">=3.11"),
    )


def test_each_python_gets_the_newest_versions_that_serve_it(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    scientific(index_server)
    root = write(tmp_path, 'requires-python = ">=3.9"\ndependencies = ["numpy", "pandas"]\n')
    lock = locked(kiln, root, index_server)
    expected = {
        (3, 9): ("2.0.2", "2.2.0"),
        (3, 10): ("2.2.6", "2.2.0"),
        (3, 11): ("2.5.0", "3.0.0"),
        (3, 13): ("2.5.0", "3.0.0"),
        (3, 14): ("2.5.0", "3.0.0"),  # no 3.14 here, and the lock serves it
    }
    for python, (numpy, pandas) in expected.items():
        for platform in (LINUX_X86_64, MACOS_ARM64, WINDOWS_AMD64):
            assert picks(lock, platform, python) == {"numpy": numpy, "pandas": pandas}
    # The same inputs write the same bytes.
    before = (root / "pylock.toml").read_bytes()
    (root / "pylock.toml").unlink()
    locked(kiln, root, index_server)
    assert (root / "pylock.toml").read_bytes() == before


def test_the_fewest_strategy_keeps_one_version_for_every_python(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    scientific(index_server)
    root = write(tmp_path, 'requires-python = ">=3.9"\ndependencies = ["numpy", "pandas"]\n')
    lock = locked(kiln, root, index_server, "--fork-strategy", "fewest")
    assert {(p.name, str(p.version)) for p in lock.packages} == {
        ("numpy", "2.0.2"),
        ("pandas", "2.2.0"),
    }
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + '\n[tool.uv]\nfork-strategy = "fewest"\n'
    )
    again = locked(kiln, root, index_server)
    assert {str(p.version) for p in again.packages if p.name == "numpy"} == {"2.0.2"}


def test_a_dependency_extra_stays_behind_the_projects_extra(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg("jax", "0.5.0", ["jaxlib"], extras={"cuda12": ["jax-cuda12-plugin"]}),
        Pkg("jaxlib", "0.5.0", tags=EVERYWHERE),
        Pkg("jax-cuda12-plugin", "0.5.0", tags=["py3-none-manylinux_2_28_x86_64"]),
    )
    root = write(
        tmp_path,
        'requires-python = ">=3.11"\ndependencies = ["jax"]\n'
        '[project.optional-dependencies]\ncuda = ["jax[cuda12]"]\n',
    )
    lock = locked(kiln, root, index_server)
    cuda = frozenset({"cuda"})
    assert picks(lock, LINUX_X86_64, (3, 12)) == {"jax": "0.5.0", "jaxlib": "0.5.0"}
    assert picks(lock, LINUX_X86_64, (3, 12), cuda)["jax-cuda12-plugin"] == "0.5.0"
    # The extra cannot be installed on macOS; the project alone still can.
    assert picks(lock, MACOS_ARM64, (3, 12)) == {"jax": "0.5.0", "jaxlib": "0.5.0"}
    assert "jax-cuda12-plugin" in refusal(lock, MACOS_ARM64, (3, 12), cuda)


def test_choosing_no_conflicting_extra_is_never_unsupported(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(
        tmp_path, S4.replace("dependencies = []", 'dependencies = ["jinja2"]'), torch_server
    )
    lock = lock_seed(kiln, root, torch_server)
    for platform in (LINUX_X86_64, LINUX_AARCH64, MACOS_ARM64, WINDOWS_AMD64):
        assert "torch" not in picks(lock, platform, (3, 12))
        assert "jinja2" in picks(lock, platform, (3, 12))
    # cu124 has no macOS build: that selection, and only that one, fails there.
    assert "torch" in refusal(lock, MACOS_ARM64, (3, 12), frozenset({"cu124"}))


def test_a_python_floor_past_every_interpreter_here_still_locks(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("attrs", "25.1.0", requires_python=">=3.14"))
    root = write(tmp_path, 'requires-python = ">=3.14"\ndependencies = ["six", "attrs"]\n')
    lock = locked(kiln, root, index_server)
    assert picks(lock, LINUX_X86_64, (3, 14)) == {"six": "1.16.0", "attrs": "25.1.0"}


def test_full_version_bounds_are_kept_exactly(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("new", "1.0"))
    root = write(
        tmp_path,
        'requires-python = ">=3.12"\ndependencies = ["new; python_full_version >= \'3.12.4\'"]\n',
    )
    lock = locked(kiln, root, index_server)
    (entry,) = lock.packages
    assert str(entry.marker) == 'python_full_version >= "3.12.4"'


def test_a_platform_outside_the_default_matrix_keeps_its_root_requirements(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("cffi", "1.17.0"))
    root = write(
        tmp_path,
        'requires-python = ">=3.12"\n'
        'dependencies = ["six", "cffi; implementation_name == \'pypy\'"]\n',
    )
    lock = locked(kiln, root, index_server)
    assert {p.name: str(p.marker) for p in lock.packages} == {
        "cffi": 'implementation_name == "pypy"',
        "six": "None",
    }


def test_relocking_keeps_a_local_and_a_plain_build_apart(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    args = ("lock", "--project", str(root), "--default-index", torch_server.index_url("pypi"))
    kiln(*args, check=True)
    first = (root / "pylock.toml").read_text()
    assert 'version = "2.5.1+cpu"' in first and 'version = "2.5.1"\n' in first
    kiln(*args, "--upgrade-package", "jinja2", check=True)
    assert (root / "pylock.toml").read_text() == first


def test_pytorch_indexes_without_upload_times_can_be_exempted_from_exclude_newer(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dated = S4.replace("[tool.uv]\n", '[tool.uv]\nexclude-newer = "2030-01-01T00:00:00Z"\n')
    root = project(tmp_path, dated, torch_server)
    args = ("lock", "--project", str(root), "--default-index", torch_server.index_url("pypi"))
    refused = kiln(*args)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "exclude-newer-package" in refused.stderr  # the hint names the way out
    exempt = dated.replace(
        "[tool.uv]\n", "[tool.uv]\nexclude-newer-package = { torch = false, torchvision = false }\n"
    )
    (root / "pyproject.toml").write_text(
        exempt.replace("https://download.pytorch.org", torch_server.url)
    )
    kiln(*args, check=True)
    lock = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert picks(lock, LINUX_X86_64, (3, 12), frozenset({"cpu"}))["torch"] == "2.5.1+cpu"


def test_lock_takes_uvs_python_request_without_narrowing_the_lock(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    scientific(index_server)
    root = write(tmp_path, 'requires-python = ">=3.9"\ndependencies = ["numpy"]\n')
    import sys

    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    lock = locked(kiln, root, index_server, "--python", here)
    assert {str(p.version) for p in lock.packages} == {"2.0.2", "2.2.6", "2.5.0"}
    missing = kiln(
        "lock", "--project", str(root), "--default-index", index_server.index_url(),
        "--python", "2.1", "--upgrade",
    )  # fmt: skip
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
