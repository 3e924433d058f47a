"""Index pages kept parsed and grouped by release, each release's files made on first use.

A PyPI page lists thousands of files for a few hundred releases, and a resolution looks at
a few of them; making a `DistFile` for every listed file was most of a warm install. A page
is read into rows (`page_rows`), grouped by the (project, version) its file names say, and
stored beside the cache in `marshal` form (plain tuples, nothing that runs code when
loaded) under the sha256 of the page URL, the index label and the body, each release's
rows as their own `marshal` blob: reading a page back parses only its list of releases,
and a release's rows and files are made when a resolution asks for that version.

Each release also keeps the earliest and latest upload time of its files, so exclude-newer
decides most releases without reading their rows. A stored entry that cannot be read is
parsed again and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.cache.atomic import write_bytes
from kiln.core.dist import DistFile, parse_name_version, version_of
from kiln.core.errors import KilnError
from kiln.core.releases import Releases
from kiln.index.page_rows import Row, file_of
from kiln.index.upload_times import parse_upload_time

# Bumped whenever the stored shape or a row's fields change.
_FORMAT = "3:releases"
_NO_TIME = float("nan")


class Release:
    """The files of one (project, version) on one page, as rows until they are asked for."""

    __slots__ = ("_blob", "_rows", "earliest", "latest", "name", "source", "untimed", "version")

    def __init__(
        self,
        name: NormalizedName,
        version: Version,
        rows: list[Row] | None,
        blob: bytes | None,
        earliest: float,
        latest: float,
        untimed: int,
        source: Path | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self._rows = rows
        self._blob = blob
        # POSIX times of the first and last upload (NaN when no file has one), and how
        # many files have no upload time.
        self.earliest = earliest
        self.latest = latest
        self.untimed = untimed
        self.source = source  # the stored entry the blob came from, for its damage

    def rows(self) -> list[Row]:
        rows = self._rows
        if rows is None:
            rows = self._rows = _rows(self._blob, self.source)
        return rows

    def stored(self) -> tuple[object, ...]:
        blob = self._blob if self._blob is not None else marshal.dumps(self._rows)
        return (self.name, str(self.version), self.earliest, self.latest, self.untimed, blob)


class PageListing:
    """One page's releases; `releases` hands a project's out for the finder."""

    def __init__(self, releases: list[Release], index: str) -> None:
        self._releases = releases
        self.index = index

    def urls(self) -> Iterator[str]:
        """Every listed file's URL (reading every release: only for credential rules)."""
        for release in self._releases:
            for row in release.rows():
                yield row[1]

    def releases(
        self, name: NormalizedName, cutoff: datetime | None
    ) -> tuple[bool, Releases, list[DistFile], int]:
        """``name``'s releases as (any listed, kept, dropped, untimed): with a ``cutoff``,
        files uploaded at or after it, or with no upload time, are dropped and counted."""
        index = self.index
        listed = False
        makers: dict[Version, Callable[[], tuple[DistFile, ...]]] = {}
        dropped: list[DistFile] = []
        untimed = 0
        limit = None if cutoff is None else cutoff.timestamp()
        for release in self._releases:
            if release.name != name:
                continue
            listed = True
            if release.version in makers:
                continue  # the same version spelled twice ("1.0", "1.0.0"): the first wins
            key = (name, release.version)
            if limit is None or (not release.untimed and release.latest < limit - 1):
                makers[release.version] = _maker(release.rows, index, key)
                continue
            untimed += release.untimed
            if not release.untimed and release.earliest > limit + 1:
                dropped.extend(file_of(row, index, key) for row in release.rows())
                continue
            kept: list[Row] = []
            assert cutoff is not None
            for row in release.rows():
                uploaded = row[5]
                when = None if uploaded is None else parse_upload_time(uploaded)
                if when is not None and when < cutoff:
                    kept.append(row)
                else:
                    dropped.append(file_of(row, index, key))
            if kept:
                makers[release.version] = _maker(lambda rows=kept: rows, index, key)  # type: ignore[misc]
        return listed, Releases(makers), dropped, untimed


def _maker(
    rows: Callable[[], list[Row]], index: str, key: tuple[NormalizedName, Version]
) -> Callable[[], tuple[DistFile, ...]]:
    return lambda: tuple(file_of(row, index, key) for row in rows())


def group_rows(rows: list[Row]) -> list[Release]:
    """Rows grouped by the (project, version) of their file names, in page order; files
    whose names say neither are left out, as no resolution could use them."""
    groups: dict[tuple[NormalizedName, Version], list[Row]] = {}
    stems: dict[str, tuple[NormalizedName, Version] | None] = {}
    for row in rows:
        filename = row[0]
        parsed: tuple[NormalizedName, Version] | None
        if filename.endswith(".whl") and filename.count("-") == 4:
            # One release's wheels share `name-version`: parse it once.
            stem = filename[: filename.index("-", filename.index("-") + 1)]
            if stem in stems:
                parsed = stems[stem]
            else:
                parsed = stems[stem] = parse_name_version(filename)
        else:
            parsed = parse_name_version(filename)
        if parsed is not None:
            groups.setdefault(parsed, []).append(row)
    releases: list[Release] = []
    for (name, version), group in groups.items():
        times = [
            when.timestamp()
            for row in group
            if (uploaded := row[5]) is not None
            and (when := parse_upload_time(uploaded)) is not None
        ]
        earliest = min(times) if times else _NO_TIME
        latest = max(times) if times else _NO_TIME
        releases.append(
            Release(name, version, group, None, earliest, latest, len(group) - len(times))
        )
    return releases


def remembered_page(
    folder: Path, body: bytes, page_url: str, index: str, parse: Callable[[], list[Row]]
) -> PageListing:
    """The page's releases: read back when these bytes were seen before, else ``parse()``d
    (rows) and stored."""
    digest = hashlib.sha256(f"{_FORMAT}\n{page_url}\n{index}\n".encode())
    digest.update(body)
    key = digest.hexdigest()
    entry = folder / key[:2] / f"{key}.marshal"
    with contextlib.suppress(OSError):
        releases = _load(entry.read_bytes(), entry)
        if releases is not None:
            return PageListing(releases, index)
    releases = group_rows(parse())
    with contextlib.suppress(OSError, ValueError):
        write_bytes(entry, marshal.dumps((_FORMAT, [r.stored() for r in releases])))
    return PageListing(releases, index)


def _rows(blob: bytes | None, source: Path | None) -> list[Row]:
    try:
        rows = marshal.loads(blob)  # type: ignore[arg-type]
        if isinstance(rows, list) and all(
            type(r) is tuple and len(r) == 8 and type(r[0]) is str and type(r[1]) is str
            for r in rows
        ):
            return rows
    except (EOFError, ValueError, TypeError):
        pass
    # Written whole or not at all, so damaged after the fact: dropped, for the next run to
    # read the page afresh.
    if source is not None:
        with contextlib.suppress(OSError):
            source.unlink()
    raise KilnError(
        f"a kept index page in the cache is damaged (`{source}`)",
        hint="run the command again: the page is read afresh (or run `kiln cache clean`)",
    )


def _load(data: bytes, source: Path) -> list[Release] | None:
    try:
        stored = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == _FORMAT):
        return None
    try:
        return [
            Release(
                NormalizedName(name), version_of(version), None, blob, early, late, untimed, source
            )
            for name, version, early, late, untimed, blob in stored[1]
        ]
    except (TypeError, ValueError):
        return None
