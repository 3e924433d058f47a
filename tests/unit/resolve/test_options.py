"""`--prerelease`, `--resolution` and the binary/build choices, on the one-target resolver."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.errors import ResolutionError
from kiln.core.protocols import FindResult, Found
from kiln.core.records import replace
from kiln.resolve.options import BuildChoices, PackageSet, ResolverOptions
from kiln.resolve.resolver import resolve

from .fake_finder import FakeFinder
from .test_resolver import linux_env, pins


class BuildingFinder(FakeFinder):
    """A finder that can read an sdist's metadata, as one wired to the build frontend can."""

    def find(self, name: NormalizedName) -> FindResult:
        found = super().find(name)
        return replace(found, builds_sdists=True) if isinstance(found, Found) else found


def _solve(
    finder: FakeFinder, reqs: Sequence[str], constraints: Sequence[str] = (), **options: object
) -> dict[str, str]:
    chosen = ResolverOptions(**options)  # type: ignore[arg-type]
    return pins(
        resolve(
            [Requirement(r) for r in reqs],
            finder,
            linux_env(),
            constraints=[Requirement(c) for c in constraints],
            options=chosen,
        )
    )


def _mixed() -> FakeFinder:
    f = FakeFinder()
    for v in ("1.0", "1.1", "2.0b1"):
        f.add("a", v)
    return f


@pytest.mark.parametrize(
    ("mode", "spec", "want"),
    [
        ("if-necessary-or-explicit", "a", "1.1"),
        # A final release is preferred even where the specifier names a pre-release.
        ("if-necessary-or-explicit", "a>=1.0b1", "1.1"),
        ("if-necessary-or-explicit", "a>=2.0b1", "2.0b1"),
        ("allow", "a", "2.0b1"),
        ("allow", "a<2.0", "1.1"),
        ("disallow", "a", "1.1"),
        ("if-necessary", "a>1.1", "2.0b1"),
        ("explicit", "a>=2.0b1", "2.0b1"),
    ],
)
def test_prerelease_modes_choose_as_uv_does(mode: str, spec: str, want: str) -> None:
    assert _solve(_mixed(), [spec], prerelease=mode) == {"a": want}


@pytest.mark.parametrize("mode", ["disallow", "explicit"])
def test_modes_that_refuse_an_unnamed_prerelease_fail_where_only_one_fits(mode: str) -> None:
    with pytest.raises(ResolutionError):
        _solve(_mixed(), ["a>1.1"], prerelease=mode)


def test_explicit_takes_the_users_constraint_but_not_a_dependencys_specifier() -> None:
    f = _mixed()
    f.add("p", "1.0", ["a>=2.0b1"])
    with pytest.raises(ResolutionError):
        _solve(f, ["p"], prerelease="explicit")
    assert _solve(f, ["p"], ["a>=2.0b1"], prerelease="explicit") == {"a": "2.0b1", "p": "1.0"}


def test_a_prerelease_is_the_fallback_when_the_graph_rejects_every_final() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["c==1.0"])
    f.add("a", "2.0b1")
    f.add("c", "1.0")
    f.add("c", "2.0")
    assert _solve(f, ["a", "c>=2"]) == {"a": "2.0b1", "c": "2.0"}
    with pytest.raises(ResolutionError):
        _solve(f, ["a", "c>=2"], prerelease="disallow")


def test_lowest_and_lowest_direct() -> None:
    f = FakeFinder()
    f.add("a", "1.0", ["b>=1"])
    f.add("a", "2.0", ["b>=1"])
    for v in ("1.0", "1.5", "2.0"):
        f.add("b", v)
    assert _solve(f, ["a"], resolution="highest") == {"a": "2.0", "b": "2.0"}
    assert _solve(f, ["a"], resolution="lowest") == {"a": "1.0", "b": "1.0"}
    assert _solve(f, ["a"], resolution="lowest-direct") == {"a": "1.0", "b": "2.0"}


def test_lowest_still_prefers_finals_to_prereleases() -> None:
    f = FakeFinder()
    for v in ("0.9a1", "1.0", "1.1"):
        f.add("a", v)
    assert _solve(f, ["a"], resolution="lowest") == {"a": "1.0"}


def _both() -> BuildingFinder:
    f = BuildingFinder()
    f.add("a", "1.0")
    f.add("a", "1.0", sdist_only=True)
    f.add("b", "1.0", sdist_only=True)
    return f


def _choices(no_binary: PackageSet | None = None, no_build: PackageSet | None = None) -> object:
    return BuildChoices(no_binary=no_binary or PackageSet(), no_build=no_build or PackageSet())


def _file(finder: FakeFinder, req: str, builds: object) -> str:
    resolution = resolve(
        [Requirement(req)],
        finder,
        linux_env(),
        options=ResolverOptions(builds=builds),  # type: ignore[arg-type]
    )
    return resolution.candidates[0].file.filename


def test_no_binary_takes_the_sdist_where_a_wheel_fits() -> None:
    a = frozenset({canonicalize_name("a")})
    assert _file(_both(), "a", _choices()).endswith(".whl")
    chosen = _choices(no_binary=PackageSet(False, a, "`--no-binary a`"))
    assert _file(_both(), "a", chosen).endswith(".tar.gz")


def test_no_build_refuses_an_sdist_only_version_naming_the_option() -> None:
    assert _file(_both(), "b", _choices()).endswith(".tar.gz")
    chosen = _choices(no_build=PackageSet(True, frozenset(), "`--no-build`"))
    with pytest.raises(ResolutionError) as info:
        _file(_both(), "b", chosen)
    text = str(info.value) + " ".join(info.value.causes)
    assert "`--no-build` forbids building it" in text


def test_no_binary_and_no_build_together_leave_nothing_and_say_both() -> None:
    a = frozenset({canonicalize_name("a")})
    chosen = _choices(
        no_binary=PackageSet(False, a, "`--no-binary a`"),
        no_build=PackageSet(False, a, "`--only-binary a`"),
    )
    with pytest.raises(ResolutionError) as info:
        _file(_both(), "a", chosen)
    text = str(info.value) + " ".join(info.value.causes)
    assert "`--no-binary a`" in text and "`--only-binary a`" in text


def test_no_binary_without_an_sdist_names_the_option() -> None:
    f = BuildingFinder()
    f.add("a", "1.0")
    chosen = _choices(no_binary=PackageSet(True, frozenset(), "`--no-binary :all:`"))
    with pytest.raises(ResolutionError) as info:
        _file(f, "a", chosen)
    text = str(info.value) + " ".join(info.value.causes)
    assert "has no source distribution, and `--no-binary :all:` forbids its wheels" in text
