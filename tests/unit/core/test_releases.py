"""`Releases`: files by version, built on first use, merged across sources."""

from __future__ import annotations

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile
from kiln.core.releases import LazyFiles, Releases

A = NormalizedName("a")


def _file(filename: str, index: str = "one") -> DistFile:
    return DistFile(filename=filename, url=f"https://{index}/{filename}", index=index)


def test_of_groups_by_version_and_leaves_out_other_names() -> None:
    files = [
        _file("a-1.0-py3-none-any.whl"),
        _file("a-1.0.tar.gz"),
        _file("A_-2.0.tar.gz"),  # another project's name
        _file("a-1.0.0-py2-none-any.whl"),  # the same version spelled longer
        _file("garbage.zip"),
    ]
    releases = Releases.of(files, A)
    assert list(releases) == [Version("1.0")]
    assert [f.filename for f in releases[Version("1.0.0")]] == [
        "a-1.0-py3-none-any.whl",
        "a-1.0.tar.gz",
        "a-1.0.0-py2-none-any.whl",
    ]


def test_a_version_is_built_once_and_only_when_asked() -> None:
    built: list[str] = []

    def maker(version: str) -> tuple[DistFile, ...]:
        built.append(version)
        return (_file(f"a-{version}.tar.gz"),)

    releases = Releases({Version(v): (lambda v=v: maker(v)) for v in ("1", "2", "3")})
    assert Version("2") in releases and Version("4") not in releases
    assert built == []  # membership and iteration build nothing
    assert sorted(releases) == [Version("1"), Version("2"), Version("3")]
    assert releases[Version("2")] is releases[Version("2")]
    assert built == ["2"]


def test_merged_takes_each_file_name_from_the_first_source() -> None:
    first = Releases.of([_file("a-1.0.tar.gz", "one")], A)
    second = Releases.of([_file("a-1.0.tar.gz", "two"), _file("a-1.0-py3-none-any.whl", "two")], A)
    third = Releases.of([_file("a-2.0.tar.gz", "three")], A)
    merged = Releases.merged([first, second, third])
    assert list(merged) == [Version("1.0"), Version("2.0")]
    assert [(f.filename, f.index) for f in merged[Version("1.0")]] == [
        ("a-1.0.tar.gz", "one"),
        ("a-1.0-py3-none-any.whl", "two"),
    ]
    assert Releases.merged([first]) is first
    assert len(Releases.merged([])) == 0


def test_restricted_keeps_only_the_accepted_versions() -> None:
    releases = Releases.of([_file("a-1.0.tar.gz"), _file("a-2.0.tar.gz")], A)
    newer = releases.restricted(lambda v: v > Version("1.5"))
    assert list(newer) == [Version("2.0")]
    assert [f.filename for f in newer.all_files()] == ["a-2.0.tar.gz"]


def test_lazy_files_are_built_once_on_first_use() -> None:

    calls: list[int] = []
    built = DistFile(filename="a-1.0-py3-none-any.whl", url="https://x/a-1.0-py3-none-any.whl")

    def make() -> list[DistFile]:
        calls.append(1)
        return [built]

    files = LazyFiles([[built], make])
    assert calls == []
    assert len(files) == 2 and list(files) == [built, built] and files[1] is built
    assert files == (built, built) and files != (built,)
    assert calls == [1]
