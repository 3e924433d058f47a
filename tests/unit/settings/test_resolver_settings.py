"""Resolver options from flags, `KILN_*`/`UV_*` variables and `[tool.uv]`; target Pythons and
platforms by uv's names."""

from __future__ import annotations

from argparse import Namespace

import pytest

from kiln.core.errors import UsageError
from kiln.project.uv_legacy_keys import ResolverKeys
from kiln.project.uv_tables import UvTables
from kiln.settings.resolver_settings import resolver_options, target_python
from kiln.settings.target_platforms import target_platform


def args(**values: object) -> Namespace:
    return Namespace(**values)


def test_defaults_are_uvs() -> None:
    got = resolver_options(args(), {})
    assert (got.prerelease, got.resolution) == ("if-necessary-or-explicit", "highest")
    assert not got.builds.no_binary and not got.builds.no_build


def test_flag_beats_variable_beats_project() -> None:
    project = UvTables(resolver=ResolverKeys(prerelease="explicit", resolution="lowest"))
    assert resolver_options(args(), {}, project=project).prerelease == "explicit"
    env = {"UV_PRERELEASE": "allow", "UV_RESOLUTION": "lowest-direct"}
    got = resolver_options(args(), env, project=project)
    assert (got.prerelease, got.resolution) == ("allow", "lowest-direct")
    env["KILN_PRERELEASE"] = "disallow"
    assert resolver_options(args(), env, project=project).prerelease == "disallow"
    flagged = resolver_options(args(prerelease="if-necessary"), env, project=project)
    assert flagged.prerelease == "if-necessary"


@pytest.mark.parametrize(
    ("env", "project", "named"),
    [
        ({"KILN_PRERELEASE": "sometimes"}, None, "KILN_PRERELEASE"),
        ({}, "sometimes", "tool.uv.prerelease"),
    ],
)
def test_an_unknown_mode_is_an_error_naming_where_it_came_from(
    env: dict[str, str], project: str | None, named: str
) -> None:
    tables = UvTables(resolver=ResolverKeys(prerelease=project))
    with pytest.raises(UsageError) as info:
        resolver_options(args(), env, project=tables)
    assert named in info.value.message and "sometimes" in info.value.message


def test_pip_spellings_of_binary_choices() -> None:
    got = resolver_options(args(no_binary=["a,B", "c"], only_binary=[":all:"]), {})
    assert got.builds.no_binary.names == {"a", "b", "c"}
    assert got.builds.no_build.every
    cleared = resolver_options(args(no_binary=[":all:", ":none:", "d"]), {})
    assert not cleared.builds.no_binary.every and cleared.builds.no_binary.names == {"d"}
    assert cleared.builds.no_binary.origin == "`--no-binary :all: :none: d`"


def test_uv_spellings_and_variables_of_build_choices() -> None:
    got = resolver_options(args(no_build=True), {})
    assert got.builds.no_build.every and got.builds.no_build.origin == "`--no-build`"
    got = resolver_options(args(no_build_package=["Numpy"], no_binary_package=["x"]), {})
    assert got.builds.no_build.names == {"numpy"} and got.builds.no_binary.names == {"x"}
    env = {"UV_NO_BUILD_PACKAGE": "a b", "UV_NO_BINARY": "1"}
    got = resolver_options(args(), env)
    assert got.builds.no_build.names == {"a", "b"} and got.builds.no_binary.every
    assert not resolver_options(args(), {"KILN_NO_BUILD": "0", "UV_NO_BUILD": "1"}).builds.no_build


def test_project_no_build_keys() -> None:
    tables = UvTables(resolver=ResolverKeys(no_build_package=("torch",)))
    got = resolver_options(args(), {}, project=tables)
    assert got.builds.no_build.names == {"torch"}
    assert "tool.uv.no-build-package" in got.builds.no_build.origin


def test_a_bad_package_name_is_an_error() -> None:
    with pytest.raises(UsageError) as info:
        resolver_options(args(no_build_package=["not a/name"]), {})
    assert "--no-build-package" in info.value.message


def test_target_python_keeps_the_patch_or_reads_it_as_zero() -> None:
    assert target_python(None) is None
    minor = target_python("3.9")
    assert minor is not None and minor.full_version == "3.9.0" and str(minor) == "3.9"
    patch = target_python("3.9.21")
    assert patch is not None and patch.full_version == "3.9.21" and patch.version == (3, 9)
    with pytest.raises(UsageError):
        target_python("three")


@pytest.mark.parametrize(
    ("name", "sys_platform", "machine", "best"),
    [
        ("linux", "linux", "x86_64", "manylinux_2_28_x86_64"),
        ("x86_64-manylinux2014", "linux", "x86_64", "manylinux_2_17_x86_64"),
        ("aarch64-manylinux_2_28", "linux", "aarch64", "manylinux_2_28_aarch64"),
        ("x86_64-unknown-linux-musl", "linux", "x86_64", "musllinux_1_2_x86_64"),
        ("macos", "darwin", "arm64", "macosx_12_0_arm64"),
        ("x86_64-apple-darwin", "darwin", "x86_64", "macosx_10_12_x86_64"),
        ("windows", "win32", "AMD64", "win_amd64"),
        ("aarch64-pc-windows-msvc", "win32", "ARM64", "win_arm64"),
    ],
)
def test_platform_names_are_uvs(name: str, sys_platform: str, machine: str, best: str) -> None:
    got = target_platform(name)
    assert (got.sys_platform, got.platform_machine, got.platform_tags[0]) == (
        sys_platform,
        machine,
        best,
    )


def test_manylinux2014_accepts_older_wheels_and_not_newer() -> None:
    tags = target_platform("x86_64-manylinux2014").platform_tags
    assert "manylinux2014_x86_64" in tags and "manylinux1_x86_64" in tags
    assert "manylinux_2_28_x86_64" not in tags


@pytest.mark.parametrize(
    ("name", "words"),
    [("x86_64-linux-android", "not supported"), ("sparc-sun-solaris", "not a known platform")],
)
def test_platforms_kiln_cannot_describe_are_refused_by_name(name: str, words: str) -> None:
    with pytest.raises(UsageError) as info:
        target_platform(name)
    assert name in info.value.message and words in info.value.message
