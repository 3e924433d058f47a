"""The universal resolver over marker regions: each rule that forks, and what the merged
entries' markers say, read back by evaluating them on concrete environments."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.errors import ResolutionError
from kiln.core.markers import evaluate, is_empty
from kiln.core.metadata import CoreMetadata
from kiln.python.platforms import MATRIX_PLATFORMS, platform_environment
from kiln.resolve.universal import (
    Manifest,
    RootRequirements,
    UniversalResolution,
    conflict_regions,
    resolve_universal,
)

from .fake_finder import FakeFinder

PY39 = Marker("python_full_version >= '3.9'")
PY312 = Marker("python_full_version >= '3.12'")
PYTHONS = ((3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14))
ALL_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_28_aarch64",
    "macosx_11_0_arm64",
    "win_amd64",
)


def run(
    finder: FakeFinder,
    *requirements: str,
    region: Marker | None = PY39,
    **fields: object,
) -> UniversalResolution:
    roots = fields.pop("roots", None) or RootRequirements(tuple(map(Requirement, requirements)))
    manifest = Manifest(roots=roots, region=region, **fields)  # type: ignore[arg-type]
    return resolve_universal(manifest, lambda region: finder)


def installed(
    result: UniversalResolution,
    platform: int,
    python: tuple[int, int],
    extras: frozenset[str] = frozenset(),
    groups: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """What a machine gets from the entries, failing if a name is selected twice."""
    env = platform_environment(MATRIX_PLATFORMS[platform], python)
    out: dict[str, str] = {}
    for entry in result.entries:
        if evaluate(entry.marker, env.markers, extras=extras, groups=groups):
            assert entry.name not in out, f"{entry.name} selected twice on {env.description}"
            out[entry.name] = str(entry.version)
    return out


def versions(result: UniversalResolution, name: str) -> list[tuple[str, str | None]]:
    return [
        (str(e.version), str(e.marker) if e.marker else None)
        for e in result.entries
        if e.name == name
    ]


def test_one_version_everywhere_has_no_marker() -> None:
    f = FakeFinder()
    f.add("six", "1.16.0")
    result = run(f, "six")
    assert [(e.name, str(e.version), e.marker) for e in result.entries] == [("six", "1.16.0", None)]
    assert result.forks == ()  # one region: nothing for a relock to start from


def test_the_newest_version_for_each_python_under_the_requires_python_strategy() -> None:
    f = FakeFinder()
    f.add("numpy", "2.0.2", requires_python=">=3.9")
    f.add("numpy", "2.2.6", requires_python=">=3.10")
    f.add("numpy", "2.5.0", requires_python=">=3.11")
    result = run(f, "numpy")
    assert versions(result, "numpy") == [
        ("2.0.2", 'python_full_version < "3.10"'),
        ("2.2.6", 'python_full_version == "3.10.*"'),
        ("2.5.0", 'python_full_version >= "3.11"'),
    ]
    # 3.14 is past every interpreter this machine has, and still gets the newest.
    assert installed(result, 0, (3, 14)) == {"numpy": "2.5.0"}


def test_the_fewest_strategy_keeps_one_version_that_serves_every_python() -> None:
    f = FakeFinder()
    f.add("numpy", "2.0.2", requires_python=">=3.9")
    f.add("numpy", "2.5.0", requires_python=">=3.11")
    result = run(f, "numpy", strategy="fewest")
    assert versions(result, "numpy") == [("2.0.2", None)]


def test_dependencies_of_a_forked_version_carry_its_python_marker() -> None:
    f = FakeFinder()
    f.add("pandas", "2.0.0", ["tzdata"], requires_python=">=3.9")
    f.add("pandas", "3.0.0", ["tzdata", "numpy>=2"], requires_python=">=3.11")
    f.add("tzdata", "2025.1")
    f.add("numpy", "2.3.0")
    result = run(f, "pandas")
    assert versions(result, "numpy") == [("2.3.0", 'python_full_version >= "3.11"')]
    assert versions(result, "tzdata") == [("2025.1", None)]


def test_the_same_package_asked_for_differently_under_two_markers_forks() -> None:
    f = FakeFinder()
    f.add("numpy", "1.26.4")
    f.add("numpy", "2.1.0")
    result = run(f, "numpy>=2; python_version >= '3.13'", "numpy<2; python_version < '3.13'")
    assert versions(result, "numpy") == [
        ("1.26.4", 'python_full_version < "3.13"'),
        ("2.1.0", 'python_full_version >= "3.13"'),
    ]


def test_a_dependency_list_that_asks_twice_forks_the_region() -> None:
    f = FakeFinder()
    f.add("a", "1", ["c>=2; sys_platform == 'linux'", "c<2; sys_platform != 'linux'"])
    f.add("c", "1.5")
    f.add("c", "2.5")
    result = run(f, "a")
    assert versions(result, "c") == [
        ("1.5", 'sys_platform != "linux"'),
        ("2.5", 'sys_platform == "linux"'),
    ]


def test_markers_propagate_along_the_graph() -> None:
    f = FakeFinder()
    f.add("a", "1", ["b; sys_platform == 'linux'"])
    f.add("b", "1", ["c; python_version >= '3.12'"])
    f.add("c", "1")
    result = run(f, "a")
    assert versions(result, "b") == [("1", 'sys_platform == "linux"')]
    assert versions(result, "c") == [
        ("1", 'sys_platform == "linux" and python_full_version >= "3.12"')
    ]
    assert installed(result, 2, (3, 12)) == {"a": "1"}  # macOS


def test_a_dependency_disjoint_from_the_region_is_left_out() -> None:
    f = FakeFinder()
    f.add("a", "1", ["old; python_version < '3.9'", "new; python_version >= '3.9'"])
    f.add("new", "1")
    result = run(f, "a")
    assert versions(result, "new") == [("1", None)]
    assert versions(result, "old") == []


def test_a_dependency_extra_is_its_own_node() -> None:
    f = FakeFinder()
    f.add(
        "jax", "0.5", ["jaxlib"], extras={"cuda12": ["jax-cuda12-plugin; sys_platform == 'linux'"]}
    )
    f.add("jaxlib", "0.5")
    f.add("jax-cuda12-plugin", "0.5", tags=["py3-none-manylinux_2_28_x86_64"])
    roots = RootRequirements(
        (Requirement("jax"),), extras={NormalizedName("cuda"): (Requirement("jax[cuda12]"),)}
    )
    result = run(f, roots=roots)
    assert versions(result, "jax-cuda12-plugin") == [
        ("0.5", '"cuda" in extras and sys_platform == "linux"')
    ]
    assert installed(result, 0, (3, 12)) == {"jax": "0.5", "jaxlib": "0.5"}
    assert "jax-cuda12-plugin" in installed(result, 0, (3, 12), frozenset({"cuda"}))


def test_a_local_build_gives_way_to_the_plain_one_where_only_that_has_wheels() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1+cpu", tags=["cp312-cp312-manylinux_2_28_x86_64", "cp312-cp312-win_amd64"])
    f.add("torch", "2.5.1", tags=["cp312-none-macosx_11_0_arm64"])
    result = run(f, "torch", region=PY312)
    assert versions(result, "torch") == [
        ("2.5.1", 'sys_platform == "darwin"'),
        ("2.5.1+cpu", 'sys_platform != "darwin"'),
    ]


def test_a_version_without_wheels_for_the_region_is_passed_over() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1", tags=["cp312-cp312-manylinux_2_28_x86_64"])
    with pytest.raises(ResolutionError) as caught:
        run(f, "torch", region=Marker("python_full_version >= '3.13'"))
    assert "3.13" in caught.value.message or any("3.13" in c for c in caught.value.causes)
    assert any("cp312" in c for c in caught.value.causes)


def cpu_cu124() -> tuple[
    FakeFinder, RootRequirements, tuple[tuple[tuple[str, NormalizedName], ...], ...]
]:
    f = FakeFinder()
    f.add("torch", "2.5.1", tags=[f"cp312-cp312-{p}" for p in ALL_PLATFORMS])
    f.add("torch", "2.4.0", tags=[f"cp312-cp312-{p}" for p in ALL_PLATFORMS])
    f.add("six", "1.16.0")
    cpu, cu124 = NormalizedName("cpu"), NormalizedName("cu124")
    roots = RootRequirements(
        (Requirement("six"),),
        extras={cpu: (Requirement("torch==2.5.1"),), cu124: (Requirement("torch==2.4.0"),)},
    )
    return f, roots, ((("extra", cpu), ("extra", cu124)),)


def test_conflicting_extras_resolve_apart_and_are_marked_by_extra() -> None:
    f, roots, conflicts = cpu_cu124()
    result = run(f, roots=roots, conflicts=conflicts, region=PY312)
    assert versions(result, "torch") == [
        ("2.4.0", '"cu124" in extras'),
        ("2.5.1", '"cpu" in extras'),
    ]
    assert installed(result, 0, (3, 12)) == {"six": "1.16.0"}
    assert installed(result, 0, (3, 12), frozenset({"cpu"}))["torch"] == "2.5.1"


def test_conflict_regions_include_choosing_none() -> None:
    a, b = NormalizedName("a"), NormalizedName("b")
    regions = conflict_regions(((("extra", a), ("extra", b)),))
    assert [(str(m), picked) for m, picked in regions] == [
        ('"a" not in extras and "b" not in extras', False),
        ('"a" in extras and "b" not in extras', True),
        ('"b" in extras and "a" not in extras', True),
    ]


def test_an_extra_that_resolves_nowhere_fails_the_lock_naming_it() -> None:
    f, roots, conflicts = cpu_cu124()
    roots = RootRequirements(
        roots.base, extras={**roots.extras, NormalizedName("cu124"): (Requirement("torch==9"),)}
    )
    with pytest.raises(ResolutionError) as caught:
        run(f, roots=roots, conflicts=conflicts, region=PY312)
    assert "cu124" in caught.value.message


def test_platforms_a_pinned_local_build_leaves_without_a_version_are_recorded() -> None:
    f = FakeFinder()
    f.add("torch", "2.5.1+cpu", tags=["cp312-cp312-manylinux_2_28_x86_64", "cp312-cp312-win_amd64"])
    f.add("torch", "2.5.1", tags=["cp312-none-macosx_11_0_arm64"])
    result = run(f, "torch==2.5.1+cpu", region=PY312)
    assert versions(result, "torch") == [("2.5.1+cpu", 'sys_platform != "darwin"')]
    (gap,) = result.unsupported
    assert str(gap.marker) == 'sys_platform == "darwin"'
    assert "torch" in gap.reason


def test_the_project_alone_failing_fails_the_lock() -> None:
    f = FakeFinder()
    f.add("six", "1.16.0")
    with pytest.raises(ResolutionError):
        run(f, "six>=2")


def test_a_required_environment_that_fails_fails_the_lock() -> None:
    f, roots, conflicts = cpu_cu124()
    roots = RootRequirements(
        roots.base, extras={**roots.extras, NormalizedName("cu124"): (Requirement("torch==9"),)}
    )
    with pytest.raises(ResolutionError):
        run(
            f,
            roots=roots,
            conflicts=conflicts,
            region=PY312,
            required=(Marker("sys_platform == 'linux'"),),
        )


class _WaitsForTheOtherRegion(FakeFinder):
    """Solving the first region (3.14) cannot finish until some other thread has asked for
    ``needed_later``, a wheel only the region after it (3.12, 3.13) reads."""

    def __init__(
        self, needed_later: str = "c-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", timeout: float = 5
    ) -> None:
        super().__init__()
        self.needed_later = needed_later
        self.timeout = timeout
        self.read_early = threading.Event()

    def metadata(self, file: DistFile) -> CoreMetadata:
        if file.filename == self.needed_later and threading.current_thread().name.startswith(
            "kiln-ahead"
        ):
            self.read_early.set()
        if file.filename.startswith("c-1.0-cp314") and self.network:
            self.read_early.wait(timeout=self.timeout)
        return super().metadata(file)


def _split_at_314(finder: FakeFinder, *also: str, **fields: object) -> UniversalResolution:
    finder.add("b", "2.0", requires_python=">=3.14")
    finder.add("b", "1.0")
    finder.add(
        "c", "1.0", tags=("cp312-cp312-manylinux_2_28_x86_64", "cp314-cp314-manylinux_2_28_x86_64")
    )
    return run(finder, "b", "c", *also, region=PY312, **fields)


def test_a_region_waiting_to_be_solved_is_read_while_the_one_before_it_is_solved() -> None:
    f = _WaitsForTheOtherRegion()
    result = _split_at_314(f)
    assert versions(result, "b") == [
        ("1.0", 'python_full_version < "3.14"'),
        ("2.0", 'python_full_version >= "3.14"'),
    ]
    assert f.read_early.is_set()
    assert any(
        thread.startswith("kiln-ahead") and name == f.needed_later
        for thread, name in f.metadata_threads
    )


def test_a_waiting_region_is_read_ahead_at_the_versions_it_prefers() -> None:
    f = _WaitsForTheOtherRegion(needed_later="d-1.0-py3-none-any.whl")
    f.add("d", "1.0")
    f.add("d", "2.0")
    kept = {NormalizedName("d"): ((Version("1.0"), None),)}  # as a previous lock left it
    result = _split_at_314(f, "d", preferences=kept)
    assert versions(result, "d") == [("1.0", None)]
    assert f.read_early.is_set()
    assert "d-2.0-py3-none-any.whl" not in f.metadata_calls


def test_nothing_is_read_ahead_for_waiting_regions_while_the_cache_answers_everything() -> None:
    f = _WaitsForTheOtherRegion()
    f.network = False
    result = _split_at_314(f)
    assert len(result.forks) == 2
    assert not [thread for thread, _ in f.metadata_threads if thread.startswith("kiln-ahead")]


def test_relocking_keeps_every_forks_version() -> None:
    f = FakeFinder()
    for v in ("1.0", "1.1", "2.0"):
        f.add("dep", v)
    f.add("a", "1", ["dep>=1.1; sys_platform == 'linux'", "dep<2; sys_platform != 'linux'"])
    before = {
        NormalizedName("dep"): (
            (Version("1.1"), Marker("sys_platform == 'linux'")),
            (Version("1.0"), Marker("sys_platform != 'linux'")),
        )
    }
    result = run(f, "a", preferences=before)
    assert versions(result, "dep") == [
        ("1.0", 'sys_platform != "linux"'),
        ("1.1", 'sys_platform == "linux"'),
    ]
    # Without a lock to keep, the capped piece is solved first and the other takes its
    # version: one `dep` for both, as uv locks it.
    fresh = run(f, "a")
    assert versions(fresh, "dep") == [("1.1", None)]


def test_environments_bound_the_region() -> None:
    f = FakeFinder()
    f.add("winonly", "1", tags=["py3-none-win_amd64"])
    f.add("winonly", "0.9")
    result = run(
        f, "winonly", region=Marker("python_full_version >= '3.9' and sys_platform == 'linux'")
    )
    # 1 has no wheel anywhere in a Linux-only region, so the solver takes 0.9.
    assert versions(result, "winonly") == [("0.9", None)]


# -- properties over small random graphs -----------------------------------------------------

MARKERS = (
    None,
    "sys_platform == 'linux'",
    "sys_platform != 'linux'",
    "python_version >= '3.11'",
    "python_version < '3.11'",
    "platform_machine == 'aarch64'",
)
NAMES = ("a", "b", "c", "d")


@st.composite
def universes(draw: st.DrawFn) -> FakeFinder:
    f = FakeFinder()
    for i, name in enumerate(NAMES):
        for version in ("1", "2"):
            deps = []
            for other in NAMES[i + 1 :]:
                if draw(st.booleans()):
                    marker = draw(st.sampled_from(MARKERS))
                    spec = draw(st.sampled_from(("", ">=2", "<2")))
                    deps.append(f"{other}{spec}" + (f"; {marker}" if marker else ""))
            floor = draw(st.sampled_from((None, ">=3.9", ">=3.10", ">=3.12")))
            f.add(name, version, deps, requires_python=floor)
    return f


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(universes(), st.sampled_from(MARKERS))
def test_every_marker_is_satisfiable_and_no_machine_selects_a_name_twice(
    finder: FakeFinder, root_marker: str | None
) -> None:
    root = "a" + (f"; {root_marker}" if root_marker else "")
    try:
        result = run(finder, root)
    except ResolutionError:
        return
    for entry in result.entries:
        assert not is_empty(entry.marker), entry
    for platform in range(len(MATRIX_PLATFORMS)):
        for python in PYTHONS:
            got = installed(result, platform, python)  # asserts one entry per name
            env = platform_environment(MATRIX_PLATFORMS[platform], python).markers
            if root_marker is None or Marker(root_marker).evaluate(dict(env)):
                assert "a" in got


def test_the_regions_of_a_lock_share_one_look_ahead_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln.resolve.resolver as resolver_module

    made: list[str] = []
    real = resolver_module.started_pool

    def counting(workers: int, prefix: str) -> object:
        made.append(prefix)
        return real(workers, prefix)

    monkeypatch.setattr(resolver_module, "started_pool", counting)
    result = _split_at_314(FakeFinder())
    assert len(result.forks) == 2  # two regions were solved
    assert made == []  # neither made a pool of its own


def test_nothing_is_read_ahead_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln.resolve.universal as universal_module

    pools: list[str] = []
    monkeypatch.setattr(universal_module, "started_pool", lambda n, prefix: pools.append(prefix))
    # The first region's solve gives the next region's read-ahead time to happen.
    f = _WaitsForTheOtherRegion(timeout=0.3)
    f.online = False
    result = _split_at_314(f)
    assert len(result.forks) == 2
    assert not f.read_early.is_set()
    assert {thread for thread, _ in f.metadata_threads} == {threading.current_thread().name}
    assert pools == []  # no threads started for it either
