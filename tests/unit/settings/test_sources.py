"""pins_for and direct_sources_for: where each package comes from, for one region."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.project.uv_tables import Source
from kiln.resolve.region import Region
from kiln.settings.sources import SourceConflictError, direct_sources_for, pins_for

TORCH = NormalizedName("torch")


def region(text: str) -> Region:
    return Region(Marker(text))


LINUX = "sys_platform == 'linux'"
MACOS = "sys_platform == 'darwin'"
WINDOWS = "sys_platform == 'win32'"
NONE = "'cpu' not in extras and 'cu124' not in extras"

S2 = {TORCH: (Source(index="pytorch-cpu", marker=Marker("platform_system != 'Darwin'")),)}
S3 = {
    TORCH: (
        Source(index="pytorch-cpu", marker=Marker("sys_platform == 'win32'")),
        Source(index="pytorch-cu124", marker=Marker("sys_platform == 'linux'")),
    )
}
S4 = {
    TORCH: (
        Source(index="pytorch-cpu", extra=NormalizedName("cpu")),
        Source(index="pytorch-cu124", extra=NormalizedName("cu124")),
    )
}


def test_s2_pins_torch_everywhere_but_macos() -> None:
    assert pins_for(S2, region(LINUX)) == {TORCH: "pytorch-cpu"}
    assert pins_for(S2, region(WINDOWS)) == {TORCH: "pytorch-cpu"}
    assert pins_for(S2, region(MACOS)) == {}


def test_s3_picks_the_source_whose_marker_holds() -> None:
    assert pins_for(S3, region(WINDOWS)) == {TORCH: "pytorch-cpu"}
    assert pins_for(S3, region(LINUX)) == {TORCH: "pytorch-cu124"}
    assert pins_for(S3, region(MACOS)) == {}


def test_s4_picks_the_source_of_the_selected_extra() -> None:
    cpu = "'cpu' in extras and 'cu124' not in extras"
    cu124 = "'cu124' in extras and 'cpu' not in extras"
    assert pins_for(S4, region(f"{LINUX} and {cpu}")) == {TORCH: "pytorch-cpu"}
    assert pins_for(S4, region(f"{LINUX} and {cu124}")) == {TORCH: "pytorch-cu124"}
    assert pins_for(S4, region(f"{LINUX} and {NONE}")) == {}


def test_two_applying_sources_are_an_error_naming_both() -> None:
    with pytest.raises(SourceConflictError) as caught:
        pins_for(S4, region("'cpu' in extras and 'cu124' in extras"))
    assert caught.value.message == "more than one source of `torch` applies to the same environment"
    assert caught.value.causes == (
        "index = `pytorch-cpu` (extra `cpu`)",
        "index = `pytorch-cu124` (extra `cu124`)",
    )


def test_a_group_source_applies_only_with_its_group() -> None:
    sources = {TORCH: (Source(index="pytorch-cpu", group=NormalizedName("dev")),)}
    assert pins_for(sources, region("'dev' in dependency_groups")) == {TORCH: "pytorch-cpu"}
    assert pins_for(sources, region("'dev' not in dependency_groups")) == {}


def test_a_source_marker_and_extra_must_both_hold() -> None:
    sources = {
        TORCH: (Source(index="pytorch-cpu", marker=Marker(LINUX), extra=NormalizedName("cpu")),)
    }
    assert pins_for(sources, region(f"{LINUX} and 'cpu' in extras")) == {TORCH: "pytorch-cpu"}
    assert pins_for(sources, region(f"{MACOS} and 'cpu' in extras")) == {}
    assert pins_for(sources, region(f"{LINUX} and 'cpu' not in extras")) == {}


def test_a_path_source_that_applies_is_served_from_its_source_not_an_index() -> None:
    mylib = NormalizedName("mylib")
    sources = {mylib: (Source(path="../mylib"),), TORCH: (Source(index="pytorch-cpu"),)}
    assert pins_for(sources, region(LINUX)) == {TORCH: "pytorch-cpu"}
    assert direct_sources_for(sources, region(LINUX)) == {mylib: Source(path="../mylib")}


def test_a_direct_source_and_an_index_source_that_overlap_are_an_error() -> None:
    sources = {
        NormalizedName("mylib"): (
            Source(path="../mylib"),
            Source(index="internal", marker=Marker(LINUX)),
        )
    }
    with pytest.raises(SourceConflictError):
        direct_sources_for(sources, region(LINUX))
    assert direct_sources_for(sources, region(MACOS)) == {
        NormalizedName("mylib"): Source(path="../mylib")
    }


def test_a_path_source_elsewhere_pins_nothing_here() -> None:
    sources = {
        NormalizedName("mylib"): (
            Source(path="../mylib", marker=Marker("sys_platform == 'win32'")),
        )
    }
    assert pins_for(sources, region(LINUX)) == {}
