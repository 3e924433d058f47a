"""A region answers whether a wheel serves it tag by tag; that must be the same answer as
asking whether the union of the wheel's tags' markers meets the region."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.tags import Tag, parse_tag
from packaging.utils import parse_wheel_filename

from kiln.core.markers import NEVER, union
from kiln.core.tag_markers import tag_marker
from kiln.resolve.region import Region

TAGS = sorted(
    {
        tag
        for text in (
            "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
            "cp312-cp312-manylinux_2_28_aarch64",
            "cp39-abi3-win_amd64",
            "cp39-abi3-macosx_11_0_arm64",
            "cp310-cp310-macosx_10_9_universal2",
            "cp313-cp313t-musllinux_1_2_x86_64",
            "pp310-pypy310_pp73-manylinux_2_17_x86_64",
            "py3-none-any",
            "py2.py3-none-any",
            "py38-none-win32",
            "cp311-none-linux_x86_64",
            "graalpy311-graalpy242_311_native-manylinux_2_28_x86_64",
        )
        for tag in parse_tag(text)
    },
    key=str,
)
REGIONS = [
    None,
    "python_full_version >= '3.12'",
    "python_full_version >= '3.9' and python_full_version < '3.12'",
    "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "sys_platform == 'darwin'",
    "sys_platform == 'win32' and python_full_version >= '3.13'",
    "implementation_name == 'pypy'",
    "(sys_platform == 'linux' and python_full_version < '3.11') or sys_platform == 'darwin'",
    "platform_machine == 'aarch64' and sys_platform == 'linux'",
]


def _union_meets(region: Region, tags: frozenset[Tag]) -> bool:
    whole: Marker | None = NEVER
    for tag in tags:
        whole = union(whole, tag_marker(tag))
    return region.meets(whole)


@settings(max_examples=300, deadline=None)
@given(
    region_text=st.sampled_from(REGIONS),
    tags=st.frozensets(st.sampled_from(TAGS), min_size=1, max_size=5),
)
def test_a_wheel_serves_a_region_where_its_tags_union_meets_it(
    region_text: str | None, tags: frozenset[Tag]
) -> None:
    region = Region(None if region_text is None else Marker(region_text))
    assert (region.tag_rank(tags) is not None) == _union_meets(region, tags)
    # Asked again, from what the region remembers: the same answer.
    assert (region.tag_rank(tags) is not None) == _union_meets(region, tags)


@pytest.mark.parametrize(
    "filename",
    [
        "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "x-1-cp312-cp312-win_amd64.whl",
        "x-1-2-py3-none-any.whl",
        "x-1-CP311-CP311-MACOSX_11_0_ARM64.whl",
    ],
)
@pytest.mark.parametrize("region_text", REGIONS)
def test_a_file_name_serves_a_region_as_its_parsed_tags(
    region_text: str | None, filename: str
) -> None:
    region = Region(None if region_text is None else Marker(region_text))
    expected = Region(region.marker).tag_rank(parse_wheel_filename(filename)[3])
    assert region.wheel_rank(filename) == expected
    assert region.wheel_rank(filename) == expected


def test_a_cpython_312_linux_wheel_serves_linux_but_not_windows() -> None:
    tags = frozenset(parse_tag("cp312-cp312-manylinux_2_17_x86_64"))
    linux = Region(Marker("sys_platform == 'linux' and python_full_version >= '3.12'"))
    windows = Region(Marker("sys_platform == 'win32'"))
    older = Region(Marker("sys_platform == 'linux' and python_full_version < '3.12'"))
    assert linux.tag_rank(tags) == 0
    assert windows.tag_rank(tags) is None
    assert older.tag_rank(tags) is None
