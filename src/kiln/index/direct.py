"""A finder view in which some packages come from their own source, not from an index.

Such a package has exactly one candidate, whose metadata is already known: the indexes are
never asked for it, so a same-named index release can never stand in for the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from packaging.utils import NormalizedName

from kiln.core.dist import DistFile
from kiln.core.metadata import CoreMetadata
from kiln.core.protocols import FindResult, Found, PackageFinder
from kiln.core.releases import Releases

# name -> (its one file, that file's metadata), or None where the package has no such source
DirectLookup = Callable[[NormalizedName], tuple[DistFile, CoreMetadata] | None]


class DirectFinder:
    def __init__(self, inner: PackageFinder, lookup: DirectLookup) -> None:
        self._inner = inner
        self._lookup = lookup
        self._by_url: dict[str, CoreMetadata] = {}

    def find(self, name: NormalizedName) -> FindResult:
        direct = self._lookup(name)
        if direct is None:
            return self._inner.find(name)
        file, metadata = direct
        self._by_url[file.url] = metadata
        return Found(Releases.of((file,), name), builds_sdists=True)

    def metadata(self, file: DistFile) -> CoreMetadata:
        known = self._by_url.get(file.url)
        if known is not None:
            return known
        return self._inner.metadata(file)

    def prefetch(self, files: Sequence[DistFile]) -> None:
        self._inner.prefetch([f for f in files if f.url not in self._by_url])

    def used_network(self) -> bool:
        return self._inner.used_network()

    def may_use_network(self) -> bool:
        return self._inner.may_use_network()

    def answers_from_cache(self, names: Iterable[NormalizedName]) -> bool:
        # Which names are direct is known only by looking them up, which may build them:
        # the index is asked about all of them, and a direct one it lacks answers no.
        return self._inner.answers_from_cache(names)
