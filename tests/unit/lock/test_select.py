from __future__ import annotations

import sys

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock, PylockSelectError
from packaging.specifiers import SpecifierSet

from kiln.core.environment import Environment
from kiln.core.errors import KilnError
from kiln.core.records import replace
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import dump_lock
from kiln.lock.select import select

from .s4 import linux_aarch64, linux_x86_64, machine, macos_arm64, s4_lock, windows_amd64

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

MACHINES = {
    "linux-x86_64": linux_x86_64,
    "macos-arm64": macos_arm64,
    "windows-amd64": windows_amd64,
}
NONE: frozenset[str] = frozenset()
CPU = frozenset({"cpu"})
CU124 = frozenset({"cu124"})
NVIDIA = {"nvidia-cublas-cu12", "nvidia-cudnn-cu12"}


def picked(
    lock: Lock, env: Environment, extras: frozenset[str], groups: frozenset[str] = NONE
) -> dict[str, tuple[str, str]]:
    return {
        s.package.name: (str(s.package.version), s.wheel.name)
        for s in select(lock, env, extras=extras, groups=groups)
    }


def packaging_picked(
    lock: Lock, env: Environment, extras: frozenset[str], groups: frozenset[str] = NONE
) -> dict[str, tuple[str, str]]:
    parsed = Pylock.from_dict(tomllib.loads(dump_lock(lock)))
    return {
        package.name: (str(package.version), dist.filename)  # type: ignore[union-attr]
        for package, dist in parsed.select(
            environment=dict(env.markers),  # type: ignore[arg-type]
            tags=env.tags,
            extras=extras,
            dependency_groups=groups,
        )
    }


# (machine, python, extras) -> torch build and wheel platform; nvidia wheels only with cu124 on
# Linux x86_64. macOS has no `+cpu` wheel, so `--extra cpu` fails there (see below).
EXPECTED = [
    ("linux-x86_64", NONE, "2.5.1", "cp312-cp312-manylinux1_x86_64"),
    ("linux-x86_64", CPU, "2.5.1+cpu", "cp312-cp312-linux_x86_64"),
    ("linux-x86_64", CU124, "2.5.1+cu124", "cp312-cp312-linux_x86_64"),
    ("macos-arm64", NONE, "2.5.1", "cp312-none-macosx_11_0_arm64"),
    ("macos-arm64", CU124, "2.5.1", "cp312-none-macosx_11_0_arm64"),
    ("windows-amd64", NONE, "2.5.1", "cp312-cp312-win_amd64"),
    ("windows-amd64", CPU, "2.5.1+cpu", "cp312-cp312-win_amd64"),
    ("windows-amd64", CU124, "2.5.1", "cp312-cp312-win_amd64"),
]


@pytest.mark.parametrize(("where", "extras", "build", "tag"), EXPECTED)
@pytest.mark.parametrize("python", [(3, 12), (3, 13)])
def test_each_machine_and_extra_gets_its_torch_build(
    where: str, extras: frozenset[str], build: str, tag: str, python: tuple[int, int]
) -> None:
    env = MACHINES[where](python)
    got = picked(s4_lock(), env, extras)
    tag = tag.replace("cp312", f"cp{python[0]}{python[1]}")
    assert got["torch"] == (build, f"torch-{build}-{tag}.whl")
    assert got["filelock"] == ("3.16.1", "filelock-3.16.1-py3-none-any.whl")
    with_nvidia = where == "linux-x86_64" and extras == CU124
    assert (got.keys() >= NVIDIA) == with_nvidia
    assert not (NVIDIA & got.keys()) or with_nvidia
    assert "pytest" not in got


@pytest.mark.parametrize(("where", "extras", "build", "tag"), EXPECTED)
def test_packaging_selects_the_same_from_the_written_file(
    where: str, extras: frozenset[str], build: str, tag: str
) -> None:
    env = MACHINES[where]()
    for groups in (NONE, frozenset({"dev"})):
        assert picked(s4_lock(), env, extras, groups) == packaging_picked(
            s4_lock(), env, extras, groups
        )


def test_groups_select_their_packages() -> None:
    got = picked(s4_lock(), linux_x86_64(), NONE, frozenset({"dev"}))
    assert got["pytest"] == ("8.3.3", "pytest-8.3.3-py3-none-any.whl")


def test_a_build_without_a_wheel_for_the_machine_is_named() -> None:
    with pytest.raises(KilnError) as info:
        select(s4_lock(), macos_arm64(), extras=CPU, groups=NONE)
    err = info.value
    assert err.message == (
        "no wheel of `torch` 2.5.1+cpu from `https://download.pytorch.org/whl/cpu` "
        "fits CPython 3.12 on darwin arm64"
    )
    assert "cp312-cp312-linux_x86_64" in err.causes[0] and "cp313-cp313-win_amd64" in err.causes[0]
    assert err.hint is not None and "marker" in err.hint and "kiln lock" in err.hint
    # packaging agrees that there is nothing to install.
    with pytest.raises(PylockSelectError):
        packaging_picked(s4_lock(), macos_arm64(), CPU)
    with pytest.raises(KilnError, match=r"no wheel of `torch` 2\.5\.1\+cu124"):
        select(s4_lock(), linux_aarch64(), extras=CU124, groups=NONE)


def test_two_entries_for_one_name_mean_a_broken_selection() -> None:
    with pytest.raises(KilnError, match="two entries of `torch`") as info:
        select(s4_lock(), linux_x86_64(), extras=CPU | CU124, groups=NONE)
    assert any("2.5.1+cpu" in c for c in info.value.causes)
    assert any("2.5.1+cu124" in c for c in info.value.causes)
    with pytest.raises(PylockSelectError):
        packaging_picked(s4_lock(), linux_x86_64(), CPU | CU124)


def test_unknown_extras_and_groups_are_named_with_the_known_ones() -> None:
    with pytest.raises(KilnError, match="extra `rocm` not found") as info:
        select(s4_lock(), linux_x86_64(), extras=frozenset({"rocm"}), groups=NONE)
    assert info.value.causes == ("the lock has extras `cpu`, `cu124`",)
    with pytest.raises(KilnError, match="groups `docs`, `lint` not found") as info:
        select(s4_lock(), linux_x86_64(), extras=NONE, groups=frozenset({"lint", "docs"}))
    assert info.value.causes == ("the lock has groups `dev`",)
    # Names compare normalized, as PEP 685 asks.
    assert "torch" in picked(s4_lock(), linux_x86_64(), frozenset({"CPU"}))


def test_the_lock_python_range_must_hold() -> None:
    with pytest.raises(KilnError, match=r"the lock requires Python `>=3.12`, but .* 3.11.4"):
        select(s4_lock(), linux_x86_64((3, 11)), extras=NONE, groups=NONE)
    lock = s4_lock()
    narrow = replace(
        lock,
        packages=tuple(
            replace(p, requires_python=SpecifierSet("<3.13")) if p.name == "filelock" else p
            for p in lock.packages
        ),
    )
    with pytest.raises(KilnError, match=r"`filelock` 3.16.1 requires Python `<3.13`"):
        select(narrow, linux_x86_64((3, 13)), extras=NONE, groups=NONE)


def test_a_machine_outside_the_lock_environments_is_refused() -> None:
    freebsd = machine("freebsd14", "FreeBSD", "amd64", "posix", ["freebsd_14_0_release_amd64"])
    with pytest.raises(KilnError, match=r"the lock was not made for CPython 3\.12 on freebsd14"):
        select(s4_lock(), freebsd, extras=NONE, groups=NONE)


def test_a_region_the_lock_left_out_fails_with_its_reason() -> None:
    lock = replace(
        s4_lock(),
        unsupported=(
            (
                Marker(
                    "sys_platform == 'linux' and platform_machine == 'aarch64' and 'cu124' in extras"
                ),
                "no wheel of `torch` for linux aarch64 on `pytorch-cu124`",
            ),
        ),
    )
    with pytest.raises(
        KilnError, match=r"cannot be installed on CPython 3\.12 on linux aarch64"
    ) as info:
        select(lock, linux_aarch64(), extras=CU124, groups=NONE)
    assert info.value.causes == ("no wheel of `torch` for linux aarch64 on `pytorch-cu124`",)
    assert picked(lock, linux_aarch64(), NONE)["torch"][0] == "2.5.1"
