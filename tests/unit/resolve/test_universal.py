from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiln.core.errors import ResolutionError
from kiln.python.platforms import DEFAULT_PLATFORMS, platform_environment
from kiln.resolve.universal import (
    ForkSpec,
    RootRequirements,
    TargetSpec,
    UniversalEntry,
    forks_for,
    resolve_universal,
)

from .fake_finder import FakeFinder

ALL_TAGS = (
    "cp312-cp312-manylinux_2_28_x86_64",
    "cp312-cp312-manylinux_2_28_aarch64",
    "cp312-cp312-macosx_11_0_arm64",
    "cp312-cp312-win_amd64",
    "cp313-cp313-manylinux_2_28_x86_64",
    "cp313-cp313-manylinux_2_28_aarch64",
    "cp313-cp313-macosx_11_0_arm64",
    "cp313-cp313-win_amd64",
)


def targets(pythons: tuple[tuple[int, int], ...] = ((3, 12), (3, 13))) -> list[TargetSpec]:
    return [
        TargetSpec(p.key, str(p.marker), p.sys_platform, py, platform_environment(p, py))
        for p in DEFAULT_PLATFORMS
        for py in pythons
    ]


def applies(
    entry: UniversalEntry, target: TargetSpec, extras: frozenset[str] = frozenset()
) -> bool:
    if entry.marker is None:
        return True
    env = dict(target.env.markers)
    env["extras"] = extras  # type: ignore[assignment]
    env["dependency_groups"] = frozenset()  # type: ignore[assignment]
    return entry.marker.evaluate(env, "lock_file")  # type: ignore[arg-type]


def picked(
    entries: tuple[UniversalEntry, ...],
    name: str,
    target: TargetSpec,
    extras: frozenset[str] = frozenset(),
) -> list[str]:
    return sorted(str(e.version) for e in entries if e.name == name and applies(e, target, extras))


def test_one_version_everywhere_has_no_marker() -> None:
    f = FakeFinder()
    f.add("six", "1.16.0")
    entries = resolve_universal(
        RootRequirements((Requirement("six"),)), targets(), [ForkSpec()], lambda t, k: f
    ).entries
    assert [(e.name, str(e.version), e.marker) for e in entries] == [("six", "1.16.0", None)]


def test_python_split_gives_disjoint_python_markers() -> None:
    f = FakeFinder()
    f.add("numpy", "1.26.4")
    f.add("numpy", "2.1.0")
    roots = RootRequirements(
        (
            Requirement("numpy>=2; python_version >= '3.13'"),
            Requirement("numpy<2; python_version < '3.13'"),
        )
    )
    ts = targets()
    entries = resolve_universal(roots, ts, [ForkSpec()], lambda t, k: f).entries
    for t in ts:
        expected = "2.1.0" if t.python == (3, 13) else "1.26.4"
        assert picked(entries, "numpy", t) == [expected], t.key


def test_platform_only_wheels_fall_back_to_an_older_release_on_other_platforms() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1+cpu", tags=[t for t in ALL_TAGS if "macosx" not in t])
    f.add("torch", "2.5.1", tags=ALL_TAGS)
    entries = resolve_universal(
        RootRequirements((Requirement("torch>=2.5.1"),)), targets(), [ForkSpec()], lambda t, k: f
    ).entries
    for t in targets():
        expected = "2.5.1" if t.platform == "macos-arm64" else "2.5.1+cpu"
        assert picked(entries, "torch", t) == [expected], t.key


def test_conflicting_extras_fork_and_are_marked_by_extra() -> None:
    cpu, cuda = FakeFinder(), FakeFinder()
    cpu.add("torch", "2.5.1+cpu", tags=ALL_TAGS)
    cuda.add("torch", "2.5.1+cu124", ["nvidia-cublas; sys_platform == 'linux'"], tags=ALL_TAGS)
    cuda.add(
        "nvidia-cublas",
        "12.4",
        tags=["py3-none-manylinux_2_28_x86_64", "py3-none-manylinux_2_28_aarch64"],
    )
    for finder in (cpu, cuda):
        finder.files = {
            k: [type(x)(**{**x.__dict__, "index": "cpu" if finder is cpu else "cu124"}) for x in v]
            for k, v in finder.files.items()
        }  # type: ignore[misc]
        finder.meta = {x.url: finder.meta[x.url] for v in finder.files.values() for x in v}
    cpu_name, cu_name = canonicalize_name("cpu"), canonicalize_name("cu124")
    forks = forks_for([[("extra", cpu_name), ("extra", cu_name)]], [cpu_name, cu_name], [])
    assert len(forks) == 2
    roots = RootRequirements(
        (), extras={cpu_name: (Requirement("torch"),), cu_name: (Requirement("torch"),)}
    )
    ts = targets()

    def finder_for(target: TargetSpec, fork: ForkSpec) -> FakeFinder:
        return cpu if cpu_name in fork.extras else cuda

    entries = resolve_universal(roots, ts, forks, finder_for).entries
    for t in ts:
        assert picked(entries, "torch", t, frozenset({"cpu"})) == ["2.5.1+cpu"], t.key
        assert picked(entries, "torch", t, frozenset({"cu124"})) == ["2.5.1+cu124"], t.key
        assert picked(entries, "torch", t) == [], "torch only comes with an extra"
        nvidia = picked(entries, "nvidia-cublas", t, frozenset({"cu124"}))
        assert nvidia == (["12.4"] if t.sys_platform == "linux" else []), t.key
        assert picked(entries, "nvidia-cublas", t, frozenset({"cpu"})) == []


def test_fork_conditions_cover_choosing_none() -> None:
    forks = forks_for(
        [[("extra", canonicalize_name("a")), ("extra", canonicalize_name("b"))]], [], []
    )
    conditions = [Marker(f.condition or "") for f in forks]
    none_env = {"extras": frozenset(), "dependency_groups": frozenset()}
    assert [m.evaluate(none_env, "lock_file") for m in conditions] == [True, False]  # type: ignore[arg-type]


def test_a_fork_without_wheels_on_a_platform_is_recorded_not_fatal() -> None:
    cpu, cuda = FakeFinder(), FakeFinder()
    cpu.add("torch", "2.5.1", tags=ALL_TAGS)
    cuda.add("torch", "2.5.1+cu124", tags=[t for t in ALL_TAGS if "macosx" not in t])
    a, b = canonicalize_name("cpu"), canonicalize_name("cu124")
    forks = forks_for([[("extra", a), ("extra", b)]], [a, b], [])
    roots = RootRequirements((), extras={a: (Requirement("torch"),), b: (Requirement("torch"),)})
    result = resolve_universal(roots, targets(), forks, lambda t, k: cpu if a in k.extras else cuda)
    mac = [u for u in result.unsupported if "darwin" in str(u.marker)]
    assert len(mac) == 2 and len(result.unsupported) == 2  # macOS at 3.12 and 3.13, cu124 only
    assert all("cu124" in str(u.marker) and "torch" in u.reason for u in mac)


def test_a_platform_without_wheels_is_unsupported_unless_required() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1", tags=["cp312-cp312-win_amd64", "cp313-cp313-win_amd64"])
    result = resolve_universal(
        RootRequirements((Requirement("torch"),)), targets(), [ForkSpec()], lambda t, k: f
    )
    assert [e.marker for e in result.entries] == [Marker("sys_platform == 'win32'")]
    assert len(result.unsupported) == 6
    with pytest.raises(ResolutionError, match=r"while locking for CPython 3\.12 on linux"):
        resolve_universal(
            RootRequirements((Requirement("torch"),)),
            targets(),
            [ForkSpec()],
            lambda t, k: f,
            required=lambda t: t.platform == "linux-x86_64",
        )


def test_nothing_resolving_anywhere_fails_the_lock() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1", tags=["cp311-cp311-win_amd64"])
    with pytest.raises(ResolutionError, match="no other platform resolved either"):
        resolve_universal(
            RootRequirements((Requirement("torch"),)), targets(), [ForkSpec()], lambda t, k: f
        )
