"""pins_for: which index each package must come from, for one target."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.utils import NormalizedName

from kiln.core.environment import Environment
from kiln.project.uv_tables import Source
from kiln.settings.sources import SourceConflictError, pins_for

TORCH = NormalizedName("torch")


def env(system: str, sys_platform: str) -> Environment:
    return Environment(
        markers={
            "platform_system": system,
            "sys_platform": sys_platform,
            "python_version": "3.12",
            "python_full_version": "3.12.1",
            "implementation_name": "cpython",
            "platform_machine": "x86_64",
        },
        tags=(),
    )


LINUX = env("Linux", "linux")
MACOS = env("Darwin", "darwin")
WINDOWS = env("Windows", "win32")

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
    assert pins_for(S2, LINUX, frozenset(), frozenset()) == {TORCH: "pytorch-cpu"}
    assert pins_for(S2, WINDOWS, frozenset(), frozenset()) == {TORCH: "pytorch-cpu"}
    assert pins_for(S2, MACOS, frozenset(), frozenset()) == {}


def test_s3_picks_the_source_whose_marker_holds() -> None:
    assert pins_for(S3, WINDOWS, frozenset(), frozenset()) == {TORCH: "pytorch-cpu"}
    assert pins_for(S3, LINUX, frozenset(), frozenset()) == {TORCH: "pytorch-cu124"}
    assert pins_for(S3, MACOS, frozenset(), frozenset()) == {}


def test_s4_picks_the_source_of_the_requested_extra() -> None:
    assert pins_for(S4, LINUX, frozenset({"cpu"}), frozenset()) == {TORCH: "pytorch-cpu"}
    assert pins_for(S4, LINUX, frozenset({"CU124"}), frozenset()) == {TORCH: "pytorch-cu124"}
    assert pins_for(S4, LINUX, frozenset(), frozenset()) == {}


def test_two_applying_sources_are_an_error_naming_both() -> None:
    with pytest.raises(SourceConflictError) as caught:
        pins_for(S4, LINUX, frozenset({"cpu", "cu124"}), frozenset())
    assert caught.value.message == "more than one source of `torch` applies to the same environment"
    assert caught.value.causes == (
        "index = `pytorch-cpu` (extra `cpu`)",
        "index = `pytorch-cu124` (extra `cu124`)",
    )


def test_a_group_source_applies_only_with_its_group() -> None:
    sources = {TORCH: (Source(index="pytorch-cpu", group=NormalizedName("dev")),)}
    assert pins_for(sources, LINUX, frozenset(), frozenset({"dev"})) == {TORCH: "pytorch-cpu"}
    assert pins_for(sources, LINUX, frozenset(), frozenset({"docs"})) == {}


def test_a_path_source_that_applies_pins_no_index() -> None:
    sources = {NormalizedName("mylib"): (Source(path="../mylib"),)}
    assert pins_for(sources, LINUX, frozenset(), frozenset()) == {}
