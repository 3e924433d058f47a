"""The files of one project, by version, each version's files made only when asked for.

A PyPI page lists tens of thousands of files for a few hundred versions, and a resolution
looks at one or two versions of most projects. Building a file object for every listed
file was most of a warm install; a `Releases` holds, per version, a way to build that
version's files, and builds them on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import overload

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.core.dist import DistFile

Maker = Callable[[], tuple[DistFile, ...]]


class Releases(Mapping[Version, tuple[DistFile, ...]]):
    """Version -> that version's files, in the order the versions were first listed.

    Safe to share between threads: two threads asking for the same version at once may
    both build its files, and both get the one stored first.
    """

    __slots__ = ("_made", "_makers")

    def __init__(self, makers: Mapping[Version, Maker]) -> None:
        self._makers = dict(makers)
        self._made: dict[Version, tuple[DistFile, ...]] = {}

    @classmethod
    def of(cls, files: Iterable[DistFile], name: NormalizedName) -> Releases:
        """Files already built, grouped by version; files of other projects (or with a
        name that does not parse) are left out."""
        grouped: dict[Version, list[DistFile]] = {}
        for file in files:
            parsed = file.name_version
            if parsed is not None and parsed[0] == name:
                grouped.setdefault(parsed[1], []).append(file)
        releases = cls({version: _unset for version in grouped})
        releases._made.update((version, tuple(group)) for version, group in grouped.items())
        return releases

    @classmethod
    def merged(cls, sources: Sequence[Releases]) -> Releases:
        """Several sources' releases in turn: a version's files are every source's, a file
        name the first source lists it under winning."""
        if len(sources) == 1:
            return sources[0]
        having: dict[Version, list[Releases]] = {}
        for source in sources:
            for version in source:
                having.setdefault(version, []).append(source)

        def maker(version: Version, listed: list[Releases]) -> Maker:
            return lambda: _unique(chain.from_iterable(s[version] for s in listed))

        return cls({version: maker(version, listed) for version, listed in having.items()})

    def restricted(self, keep: Callable[[Version], bool]) -> Releases:
        """Only the versions ``keep`` accepts, sharing what was built already."""
        kept = Releases({v: m for v, m in self._makers.items() if keep(v)})
        kept._made.update((v, files) for v, files in self._made.items() if v in kept._makers)
        return kept

    def all_files(self) -> tuple[DistFile, ...]:
        """Every version's files (building them all: for listings and messages)."""
        return tuple(chain.from_iterable(self[version] for version in self._makers))

    def __getitem__(self, version: Version) -> tuple[DistFile, ...]:
        made = self._made.get(version)
        if made is None:
            made = self._made.setdefault(version, self._makers[version]())
        return made

    def __contains__(self, version: object) -> bool:
        return version in self._makers

    def __iter__(self) -> Iterator[Version]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __repr__(self) -> str:
        return f"Releases({len(self._makers)} versions)"


def _unset() -> tuple[DistFile, ...]:
    raise AssertionError("built already")  # pragma: no cover: `of` fills every version


def _unique(files: Iterable[DistFile]) -> tuple[DistFile, ...]:
    seen: set[str] = set()
    out: list[DistFile] = []
    for file in files:
        if file.filename not in seen:
            seen.add(file.filename)
            out.append(file)
    return tuple(out)


class LazyFiles(Sequence[DistFile]):
    """Files made on first use, from parts given as built files or as ways to build them.

    The files exclude-newer drops are read only when a resolution fails and says why a
    version was not used; building them up front was a tenth of reading a cold lock's
    pages (every file of every release newer than the cut-off).
    """

    __slots__ = ("_files", "_parts")

    def __init__(self, parts: Iterable[Sequence[DistFile] | Callable[[], Iterable[DistFile]]] = ()):
        self._parts = list(parts)
        self._files: tuple[DistFile, ...] | None = None

    def _all(self) -> tuple[DistFile, ...]:
        files = self._files
        if files is None:
            files = self._files = tuple(
                chain.from_iterable(part() if callable(part) else part for part in self._parts)
            )
        return files

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, index: int) -> DistFile: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[DistFile, ...]: ...

    def __getitem__(self, index: int | slice) -> DistFile | tuple[DistFile, ...]:
        return self._all()[index]

    def __iter__(self) -> Iterator[DistFile]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"LazyFiles({list(self._all())!r})"
