"""The differential harness on hand-made locks: a harness that calls everything equal (or
everything different) would make test_uv_lock_diff.py worthless."""

from __future__ import annotations

from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.lock.model import Lock, LockedDependency, LockedFile, LockedPackage
from kiln.python.platforms import LINUX_X86_64, MACOS_ARM64, platform_environment
from tests.network.uv_lock_diff import (
    PROJECTS_DIR,
    Outcome,
    ProjectInfo,
    compare,
    kiln_outcome,
    summarize_targets,
    uv_outcome,
)

LINUX_312 = platform_environment(LINUX_X86_64, (3, 12))
MACOS_312 = platform_environment(MACOS_ARM64, (3, 12))

PROJECT = """
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["app-dep"]

[project.optional-dependencies]
cpu = ["torch"]
gpu = ["torch"]
plot = ["seaborn"]

[dependency-groups]
dev = ["pytest"]
docs = ["sphinx"]

[tool.uv]
default-groups = ["dev"]
conflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]
"""


def test_equal_sets_agree_and_each_differing_package_is_named_with_both_versions() -> None:
    same = Outcome(installed=frozenset({("numpy", "2.0.2"), ("six", "1.17.0")}))
    assert compare(same, same) == ()
    ours = Outcome(installed=frozenset({("numpy", "2.0.2"), ("six", "1.17.0")}))
    theirs = Outcome(installed=frozenset({("numpy", "2.4.6"), ("tzdata", "2026.6")}))
    assert compare(ours, theirs) == (
        "numpy kiln=2.0.2 uv=2.4.6",
        "six kiln=1.17.0 uv=-",
        "tzdata kiln=- uv=2026.6",
    )


def test_a_refusal_agrees_only_with_a_refusal() -> None:
    installs = Outcome(installed=frozenset({("jax", "0.7.0")}))
    no = Outcome(refusal="no wheel of jax-cuda12-plugin")
    assert compare(no, Outcome(refusal="something else")) == ()
    assert compare(no, installs) == ("kiln refuses, uv installs: no wheel of jax-cuda12-plugin",)
    assert compare(installs, no) == ("uv refuses, kiln installs: no wheel of jax-cuda12-plugin",)


def test_targets_are_summarized_by_runs_of_pythons() -> None:
    everywhere = [f"{p} cp3{m}" for p in ("linux-x86_64", "linux-aarch64", "macos-arm64", "windows-amd64") for m in range(10, 15)]  # fmt: skip
    assert summarize_targets(everywhere) == "every target"
    some = [k for k in everywhere if not k.endswith("cp310") and not k.startswith("windows")]
    assert summarize_targets(some) == "cp311-cp314: linux-aarch64, linux-x86_64, macos-arm64"
    assert summarize_targets(["macos-arm64 cp310", "macos-arm64 cp312"]) == (
        "cp310: macos-arm64; cp312: macos-arm64"
    )


def test_selections_cover_extras_and_groups_but_never_two_conflicting_extras() -> None:
    selections = {s.label: s for s in ProjectInfo.read(PROJECT).selections()}
    assert list(selections) == [
        "default",
        "extra-cpu",
        "extra-gpu",
        "extra-plot",
        "only-group-dev",
        "group-docs",
        "only-group-docs",
    ]
    assert selections["default"].groups == {"dev"}
    assert selections["extra-cpu"].uv_args == ("--extra", "cpu")
    assert selections["group-docs"].groups == {"dev", "docs"}
    assert selections["only-group-docs"].groups == {"docs"}
    assert selections["only-group-docs"].uv_args == ("--only-group", "docs")


def test_every_shipped_project_is_pinned_in_time() -> None:
    projects = sorted(PROJECTS_DIR.glob("*/pyproject.toml"))
    assert len(projects) >= 8
    for path in projects:
        assert 'exclude-newer = "2026-10-01T00:00:00Z"' in path.read_text(), path


def _wheel(name: str) -> LockedFile:
    return LockedFile(name, f"https://example.invalid/{name}", None, None, {"sha256": "00"})


def _package(name: str, marker: str | None, *deps: str, tag: str = "py3-none-any") -> LockedPackage:
    return LockedPackage(
        name=canonicalize_name(name),
        version=Version("1.0"),
        marker=Marker(marker) if marker else None,
        index="https://pypi.org/simple",
        requires_python=None,
        wheels=(_wheel(f"{name.replace('-', '_')}-1.0-{tag}.whl"),),
        sdist=None,
        dependencies=tuple(LockedDependency(canonicalize_name(d)) for d in deps),
    )


def test_only_group_keeps_what_the_group_reaches_and_drops_the_projects_own() -> None:
    lock = Lock(
        requires_python=None,
        environments=(),
        extras=("cpu", "gpu", "plot"),
        dependency_groups=("dev", "docs"),
        default_groups=("dev",),
        packages=(
            _package("app-dep", None, "shared"),
            _package("shared", None),
            _package("pytest", "'dev' in dependency_groups", "pluggy", "shared"),
            _package("pluggy", "'dev' in dependency_groups"),
            _package("sphinx", "'docs' in dependency_groups"),
        ),
        fingerprint="x",
    )
    info = ProjectInfo.read(PROJECT)
    selections = {s.label: s for s in info.selections()}

    default = kiln_outcome(lock, LINUX_312, selections["default"], info)
    only_dev = kiln_outcome(lock, LINUX_312, selections["only-group-dev"], info)

    assert default.installed == {("app-dep", "1.0"), ("shared", "1.0"), ("pytest", "1.0"), ("pluggy", "1.0")}  # fmt: skip
    assert only_dev.installed == {("pytest", "1.0"), ("pluggy", "1.0"), ("shared", "1.0")}


def test_uv_side_installs_an_sdist_when_no_wheel_fits_and_refuses_when_there_is_none() -> None:
    def lock(**extra: object) -> Pylock:
        package = {
            "name": "plugin",
            "version": "1.0",
            "wheels": [
                {
                    "url": "https://example.invalid/plugin-1.0-py3-none-manylinux_2_27_x86_64.whl",
                    "hashes": {"sha256": "00"},
                }
            ],
            **extra,
        }
        return Pylock.from_dict({"lock-version": "1.0", "created-by": "t", "packages": [package]})

    assert uv_outcome(lock(), LINUX_312, "demo").installed == {("plugin", "1.0")}
    assert uv_outcome(lock(), MACOS_312, "demo").refused
    sdist = {"url": "https://example.invalid/plugin-1.0.tar.gz", "hashes": {"sha256": "00"}}
    assert uv_outcome(lock(sdist=sdist), MACOS_312, "demo").installed == {("plugin", "1.0")}
