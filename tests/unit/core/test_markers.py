from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from kiln.core.markers import (
    NEVER,
    MarkerError,
    complement,
    disjoint,
    evaluate,
    implies,
    intersect,
    is_empty,
    is_universal,
    requires_python_marker,
    simplify,
    union,
)

# sys_platform, platform_system, os_name as CPython reports them, plus platforms outside the
# three that markers usually name.
PLATFORMS = [
    ("linux", "Linux", "posix"),
    ("darwin", "Darwin", "posix"),
    ("win32", "Windows", "nt"),
    ("freebsd14", "FreeBSD", "posix"),
    ("freebsd14", "SunOS", "posix"),
    ("sunos5", "FreeBSD", "posix"),
    ("sunos5", "SunOS", "posix"),
]
MACHINES = ["x86_64", "aarch64", "arm64", "AMD64", "ppc64le"]
NAMES = ["cpu", "cu124", "rocm"]


def environment(platform: tuple[str, str, str], machine: str, python: str) -> dict[str, str]:
    sys_platform, system, os_name = platform
    return {
        "sys_platform": sys_platform,
        "platform_system": system,
        "os_name": os_name,
        "platform_machine": machine,
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        "implementation_name": "cpython",
        "implementation_version": python,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
    }


pythons = st.builds(
    "{}.{}.{}".format, st.sampled_from([2, 3, 3, 3, 4]), st.integers(0, 15), st.integers(0, 12)
)
envs = st.builds(environment, st.sampled_from(PLATFORMS), st.sampled_from(MACHINES), pythons)
name_sets = st.frozensets(st.sampled_from(NAMES))
group_sets = st.frozensets(st.sampled_from(["dev", "docs"]))

minor = st.builds("3.{}".format, st.integers(7, 14))
full = st.builds("3.{}.{}".format, st.integers(7, 14), st.integers(0, 4))
version_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~="])


def atoms(*, full_versions: bool = True) -> st.SearchStrategy[str]:
    # Without full versions, atoms stay within what the exhaustive grid below covers.
    names, groups = (NAMES, ["dev", "docs"]) if full_versions else (NAMES[:2], ["dev"])
    choices = [
        st.builds(
            "sys_platform {} '{}'".format,
            st.sampled_from(["==", "!="]),
            st.sampled_from(["linux", "darwin", "win32", "freebsd14"]),
        ),
        st.builds(
            "platform_system {} '{}'".format,
            st.sampled_from(["==", "!="]),
            st.sampled_from(["Linux", "Darwin", "Windows", "FreeBSD"]),
        ),
        st.builds(
            "platform_machine {} '{}'".format,
            st.sampled_from(["==", "!="]),
            st.sampled_from(MACHINES[:4]),
        ),
        st.builds("python_version {} '{}'".format, version_ops, minor),
        st.builds("python_version {} '{}.*'".format, st.sampled_from(["==", "!="]), minor),
        st.builds(
            "'{}' {} extras".format, st.sampled_from(names), st.sampled_from(["in", "not in"])
        ),
        st.builds(
            "'{}' {} dependency_groups".format,
            st.sampled_from(groups),
            st.sampled_from(["in", "not in"]),
        ),
    ]
    if full_versions:
        # `extra` and `extras` are separate variables to the algebra (cautious when both
        # appear), though `evaluate` reads them alike: not part of the exhaustive check.
        choices += [
            st.builds(
                "extra {} '{}'".format, st.sampled_from(["==", "!="]), st.sampled_from(names)
            ),
            st.builds("python_full_version {} '{}'".format, version_ops, full),
            st.builds(
                "'{}' {} sys_platform".format,
                st.sampled_from(["linux", "win"]),
                st.sampled_from(["in", "not in"]),
            ),
        ]
    return st.one_of(choices)


def markers(*, full_versions: bool = True) -> st.SearchStrategy[Marker]:
    text = st.recursive(
        atoms(full_versions=full_versions),
        lambda inner: st.builds(
            "({}) {} ({})".format, inner, st.sampled_from(["and", "or"]), inner
        ),
        max_leaves=6,
    )
    return text.map(Marker)


def holds(m: Marker | None, env: dict[str, str], extras: frozenset[str], groups=frozenset()):
    return evaluate(m, env, extras=extras, groups=groups)


@settings(max_examples=300, deadline=None)
@given(markers(), markers(), envs, name_sets, group_sets)
def test_intersection_holds_exactly_where_both_hold(a, b, env, extras, groups) -> None:
    both = holds(a, env, extras, groups) and holds(b, env, extras, groups)
    assert holds(intersect(a, b), env, extras, groups) == both


@settings(max_examples=300, deadline=None)
@given(markers(), markers(), envs, name_sets, group_sets)
def test_union_holds_exactly_where_either_holds(a, b, env, extras, groups) -> None:
    either = holds(a, env, extras, groups) or holds(b, env, extras, groups)
    assert holds(union(a, b), env, extras, groups) == either


@settings(max_examples=300, deadline=None)
@given(markers(), envs, name_sets, group_sets)
def test_complement_and_simplify_keep_meaning(m, env, extras, groups) -> None:
    assert holds(complement(m), env, extras, groups) == (not holds(m, env, extras, groups))
    assert holds(simplify(m), env, extras, groups) == holds(m, env, extras, groups)


@settings(max_examples=300, deadline=None)
@given(markers(), markers(), st.lists(envs, min_size=10, max_size=10), name_sets, group_sets)
def test_decisions_never_contradict_an_environment(a, b, env_list, extras, groups) -> None:
    for env in env_list:
        ha, hb = holds(a, env, extras, groups), holds(b, env, extras, groups)
        if is_empty(a):
            assert not ha
        if is_universal(a):
            assert ha
        if implies(a, b):
            assert hb or not ha
        if disjoint(a, b):
            assert not (ha and hb)


@settings(max_examples=300, deadline=None)
@given(markers(), markers())
def test_questions_agree_with_the_algebra_they_shortcut(a, b) -> None:
    # `disjoint` and `implies` answer without simplifying the intersection they ask about.
    assert disjoint(a, b) == is_empty(intersect(a, b))
    assert implies(a, b) == is_empty(intersect(a, complement(b)))


def _grid() -> list[tuple[dict[str, str], frozenset[str], frozenset[str]]]:
    minors = [f"3.{m}.0" for m in range(6, 16)]
    extra_sets = [frozenset(c) for n in range(3) for c in itertools.combinations(NAMES[:2], n)]
    return [
        (environment(p, machine, py), extras, groups)
        for p, machine, py, extras, groups in itertools.product(
            PLATFORMS, MACHINES, minors, extra_sets, [frozenset(), frozenset({"dev"})]
        )
    ]


GRID = _grid()


@settings(max_examples=150, deadline=None)
@given(markers(full_versions=False))
def test_a_marker_that_is_not_empty_holds_somewhere(m) -> None:
    # Over minor versions, platform names and extras the model is finite, so the grid
    # (every combination, plus platforms none of the atoms name) must reach every region.
    satisfied = any(holds(m, env, extras, groups) for env, extras, groups in GRID)
    assert satisfied == (not is_empty(m))


def test_darwin_and_not_darwin_are_disjoint() -> None:
    darwin = Marker("platform_system == 'Darwin'")
    assert disjoint(darwin, Marker("platform_system != 'Darwin'"))
    assert is_empty(intersect(darwin, Marker("platform_system != 'Darwin'")))
    assert is_universal(union(darwin, Marker("platform_system != 'Darwin'")))


def test_platform_system_and_sys_platform_move_together() -> None:
    not_mac = Marker("platform_system != 'Darwin'")
    mac_arm = Marker("sys_platform == 'darwin' and platform_machine == 'arm64'")
    linux = Marker("sys_platform == 'linux' and platform_machine == 'x86_64'")
    assert disjoint(not_mac, mac_arm)
    assert not disjoint(not_mac, linux)
    assert implies(linux, not_mac)
    assert disjoint(Marker("os_name == 'nt'"), Marker("sys_platform == 'linux'"))
    assert not disjoint(Marker("sys_platform == 'freebsd14'"), Marker("os_name == 'posix'"))


def test_python_version_ranges() -> None:
    old, new = Marker("python_version < '3.10'"), Marker("python_version >= '3.10'")
    assert disjoint(old, new)
    assert is_universal(union(old, new))
    assert implies(Marker("python_version == '3.12'"), Marker("python_full_version >= '3.12'"))
    assert implies(Marker("python_full_version >= '3.12.1'"), Marker("python_version >= '3.12'"))
    assert not implies(
        Marker("python_version >= '3.12'"), Marker("python_full_version >= '3.12.1'")
    )
    assert is_empty(Marker("python_version == '3.12.1'"))
    assert is_empty(Marker("python_version == '3.12.*' and python_version != '3.12'"))
    assert disjoint(Marker("python_version > '3.12'"), Marker("python_version <= '3.12'"))
    # ~= 3.9 admits every 3.x from 3.9 on, 3.13 included.
    both = intersect(Marker("python_full_version >= '3.12'"), Marker("python_version ~= '3.9'"))
    assert both == Marker("python_full_version >= '3.12' and python_full_version < '4.0'")
    assert union(
        Marker("sys_platform == 'linux' and python_version < '3.13'"),
        Marker("sys_platform == 'linux' and python_version >= '3.13'"),
    ) == Marker("sys_platform == 'linux'")


def test_extras_may_be_selected_together_unless_excluded() -> None:
    cpu, cu124 = Marker("'cpu' in extras"), Marker("'cu124' in extras")
    assert not disjoint(cpu, cu124)
    assert disjoint(Marker("'cpu' in extras and 'cu124' not in extras"), cu124)
    assert disjoint(cpu, Marker("'cpu' not in extras"))
    assert is_universal(union(cpu, Marker("'cpu' not in extras")))
    assert not disjoint(Marker("extra == 'cpu'"), Marker("extra == 'cu124'"))


def test_fork_conditions_merge_back_to_the_platform() -> None:
    merged = union(
        Marker("('cpu' in extras or 'cu124' not in extras) and sys_platform == 'win32'"),
        Marker("'cu124' in extras and sys_platform == 'win32'"),
    )
    assert merged == Marker("sys_platform == 'win32'")
    assert simplify(
        Marker("python_version < '3.11' or (python_version >= '3.11' and sys_platform == 'linux')")
    ) == Marker("python_full_version < '3.11' or sys_platform == 'linux'")


def test_always_and_never() -> None:
    assert intersect(None, None) is None
    assert union(Marker("sys_platform == 'linux'"), None) is None
    assert is_empty(NEVER) and not is_empty(None) and is_universal(None)
    assert intersect(Marker("sys_platform == 'linux'"), Marker("sys_platform == 'win32'")) == NEVER
    assert complement(None) == NEVER
    assert complement(NEVER) is None


def test_atoms_outside_the_model_pass_through() -> None:
    odd = Marker("'linux' in sys_platform")
    assert not is_empty(odd)
    assert disjoint(odd, Marker("'linux' not in sys_platform"))
    assert intersect(odd, Marker("python_version >= '3.12'")) is not None
    assert not is_empty(Marker("python_version in '3.10 3.11' and python_version == '3.12'"))
    with pytest.raises(MarkerError, match="cannot negate"):
        complement(Marker("platform_release === 'odd'"))
    assert not implies(Marker("platform_release === 'odd'"), Marker("sys_platform == 'linux'"))


def test_requires_python_as_a_marker() -> None:
    assert requires_python_marker(SpecifierSet(">=3.12")) == Marker("python_full_version >= '3.12'")
    assert requires_python_marker(SpecifierSet(">=3.12.1")) == Marker(
        "python_full_version >= '3.12.1'"
    )
    assert requires_python_marker(SpecifierSet("")) is None
    ranged = requires_python_marker(SpecifierSet(">=3.10,!=3.11.*,<4"))
    env = environment(PLATFORMS[0], "x86_64", "3.11.4")
    assert not evaluate(ranged, env)
    assert evaluate(ranged, {**env, "python_full_version": "3.12.0", "python_version": "3.12"})
    assert implies(ranged, Marker("python_version >= '3.10'"))


def test_evaluate_reads_extras_and_groups_as_sets() -> None:
    env = environment(PLATFORMS[0], "x86_64", "3.12.3")
    torch_cuda = Marker("'cu124' in extras and sys_platform == 'linux'")
    assert evaluate(torch_cuda, env, extras=frozenset({"cu124"}))
    assert not evaluate(torch_cuda, env, extras=frozenset({"cpu"}))
    assert evaluate(Marker("'dev' in dependency_groups"), env, groups=frozenset({"dev"}))
    assert not evaluate(Marker("'dev' in dependency_groups"), env)
    both = Marker("extra == 'cpu' and extra == 'cu124'")
    assert evaluate(both, env, extras=frozenset({"cpu", "cu124"}))
    assert not evaluate(both, env, extras=frozenset({"cpu"}))
    assert evaluate(Marker("extra != 'cpu'"), env)
    assert evaluate(Marker("'CPU' in extras"), env, extras=frozenset({"Cpu"}))


def test_union_all_is_union_of_each() -> None:
    from kiln.core.markers import NEVER, union, union_all

    parts = [
        Marker("sys_platform == 'linux' and python_full_version >= '3.13'"),
        Marker("sys_platform == 'win32'"),
        Marker("sys_platform == 'linux' and python_full_version < '3.13'"),
        NEVER,
    ]
    folded: Marker | None = NEVER
    for m in parts:
        folded = union(folded, m)
    assert str(union_all(parts)) == str(folded)
    assert str(union_all(parts)) == 'sys_platform == "linux" or sys_platform == "win32"'
    assert union_all([]) is NEVER
    assert union_all([Marker("os_name == 'nt'"), None]) is None
