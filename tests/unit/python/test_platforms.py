from __future__ import annotations

import itertools

import pytest
from packaging.tags import Tag

from kiln.python.platforms import (
    MATRIX_PLATFORMS,
    NEWEST_PYTHON,
    OLDEST_PYTHON,
    Platform,
    platform_environment,
    platform_fit,
)

PYTHONS = [(3, minor) for minor in range(OLDEST_PYTHON[1], NEWEST_PYTHON[1] + 1)]
PLACES = list(itertools.product(MATRIX_PLATFORMS, PYTHONS))
# Every tag any place accepts, and a few no place does: the questions asked of each place.
EVERY_TAG = {t for p, py in PLACES for t in platform_environment(p, py).tags} | {
    Tag("cp311", "cp311d", "linux_x86_64"),
    Tag("pp310", "pypy310_pp73", "manylinux_2_17_x86_64"),
    Tag("cp312", "cp312", "musllinux_1_2_x86_64"),
    Tag("py2", "none", "any"),
    Tag("cp39", "abi3", "any"),
}


@pytest.mark.parametrize(("platform", "python"), PLACES, ids=lambda v: str(v))
def test_a_fit_accepts_exactly_the_tags_of_the_environment(
    platform: Platform, python: tuple[int, int]
) -> None:
    accepted = set(platform_environment(platform, python).tags)
    fit = platform_fit(platform, python)
    assert {t for t in EVERY_TAG if fit.fits(frozenset({t}))} == accepted


def test_a_wheel_fits_when_any_of_its_tags_does() -> None:
    fit = platform_fit(MATRIX_PLATFORMS[0], (3, 12))
    assert fit.fits(frozenset({Tag("cp27", "cp27mu", "linux_x86_64"), Tag("py3", "none", "any")}))
    assert not fit.fits(frozenset({Tag("cp27", "cp27mu", "linux_x86_64")}))
    assert not fit.fits(frozenset())
