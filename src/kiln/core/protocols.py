"""Seams between layers that must not import each other (resolve, build, install)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kiln.core.records import record

if TYPE_CHECKING:
    # Annotations only: every command imports this module (its reporters), and these pull
    # in packaging's metadata and tag parsers, which a no-op `kiln run` never needs.
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from pathlib import Path

    from packaging.utils import NormalizedName

    from kiln.core.dist import DistFile
    from kiln.core.metadata import CoreMetadata
    from kiln.core.releases import Releases


@record
class Found:
    """One project's releases as a finder found them, with what was left out."""

    releases: Releases
    # Files that exclude-newer dropped (uploaded at or after ``exclude_newer``, or with no
    # upload time), kept so a failed resolution can say why those versions were not used.
    excluded: Sequence[DistFile] = ()
    exclude_newer: datetime | None = None
    # unsafe-first-match: the indexes (as `DistFile.index` names them) in priority order;
    # candidates are tried index by index, newest first within each. Empty: newest first.
    priority: tuple[str, ...] = ()
    # The finder can read an sdist's metadata (by building it): a version with only an
    # sdist is then a candidate, not a rejection.
    builds_sdists: bool = False

    @property
    def files(self) -> tuple[DistFile, ...]:
        """Every listed file (all built: for listings, not for resolving)."""
        return self.releases.all_files()


@record
class NotFound:
    """No index we may consult has the project; ``searched`` names them for the message."""

    name: NormalizedName
    searched: tuple[str, ...]
    # As on `Found`: files that exist but that exclude-newer dropped.
    excluded: Sequence[DistFile] = ()
    exclude_newer: datetime | None = None


FindResult = Found | NotFound


class PackageFinder(Protocol):
    """What the resolver needs from indexes: the files of a project and a file's metadata.

    ``find`` is called once per project name per resolution (results may be cached by the
    implementation); ``metadata`` once per candidate whose dependencies are needed, and it
    must not download a whole wheel when the index offers a cheaper way.
    """

    def find(self, name: NormalizedName) -> FindResult: ...

    def metadata(self, file: DistFile) -> CoreMetadata: ...

    def prefetch(self, files: Sequence[DistFile]) -> None:
        """Hint that ``files``' metadata will be wanted soon; may fetch them in parallel."""
        ...

    def used_network(self) -> bool:
        """Whether any answer so far needed the network (none did: all came from a cache)."""
        ...

    def may_use_network(self) -> bool:
        """False when every answer must come from a cache (`--offline`)."""
        ...

    def answers_from_cache(self, names: Iterable[NormalizedName]) -> bool:
        """Whether finding each of ``names`` needs no request (False when unsure)."""
        ...


class Downloader(Protocol):
    """Fetches one distribution file to ``dest``, verified against its known hashes.

    Implementations raise `HashMismatchError` when the content does not match, and
    `NetworkError` when the file cannot be had after retries; ``dest`` exists only on success.
    Returns the sha256 of what was written (computed while streaming), so callers can key
    caches by content even when the index published no hash.
    """

    def download(
        self, file: DistFile, dest: Path, progress: ProgressCallback | None = None
    ) -> str: ...


class ProgressCallback(Protocol):
    def __call__(self, advanced_bytes: int) -> None: ...


class Reporter(Protocol):
    """Where long operations report progress; the CLI supplies a console-backed one."""

    def download_started(self, key: str, label: str, total: int | None) -> ProgressCallback: ...

    def download_finished(self, key: str) -> None: ...

    def resolving(self, name: str, seen: int) -> None:
        """The resolver looked ``name`` up: the ``seen``-th project of this resolution."""
        ...


class SilentReporter:
    """Reports nothing; the default for tests and non-terminal output."""

    def download_started(self, key: str, label: str, total: int | None) -> ProgressCallback:
        return _ignore

    def download_finished(self, key: str) -> None:
        return None

    def resolving(self, name: str, seen: int) -> None:
        return None


class ReportingFinder:
    """A finder that tells a reporter each project it is asked for, once: the progress of a
    resolution, which otherwise says nothing for as long as the network takes."""

    def __init__(
        self,
        finder: PackageFinder,
        reporter: Reporter,
        seen: set[NormalizedName] | None = None,
    ) -> None:
        self._finder = finder
        self._reporter = reporter
        # Shared by the finders of one resolution's regions, so the count is the lock's.
        self._seen: set[NormalizedName] = set() if seen is None else seen

    def find(self, name: NormalizedName) -> FindResult:
        if name not in self._seen:
            self._seen.add(name)
            self._reporter.resolving(name, len(self._seen))
        return self._finder.find(name)

    def metadata(self, file: DistFile) -> CoreMetadata:
        return self._finder.metadata(file)

    def prefetch(self, files: Sequence[DistFile]) -> None:
        self._finder.prefetch(files)

    def used_network(self) -> bool:
        return self._finder.used_network()

    def may_use_network(self) -> bool:
        return self._finder.may_use_network()

    def answers_from_cache(self, names: Iterable[NormalizedName]) -> bool:
        return self._finder.answers_from_cache(names)


def _ignore(advanced_bytes: int) -> None:
    return None
