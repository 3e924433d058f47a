"""Index pages kept parsed and grouped by release, each release's files made on first use.

A PyPI page lists thousands of files for a few hundred releases, and a resolution looks at
a few of them; making a `DistFile` for every listed file was most of a warm install. A page
is read into rows (`page_rows`), grouped by the (project, version) its file names say, and
stored beside the cache in `marshal` form (plain tuples, nothing that runs code when
loaded) under the sha256 of the page URL, the index label and the body's sha256 (which the
page cache keeps beside the body, so a page parsed before is found without reading its
bytes), each release's rows as their own `marshal` blob after the list of releases: reading
a page back maps the file and parses only that list, and a release's blob is read, and its
rows and files made, when a resolution asks for that version (reading every blob of the 42
pages of a warm install was 18 MB, and a third of its resolution).

A JSON page's entries are not even made into rows until their release is asked for: the
entries are grouped as JSON decoded them and each release keeps its own, so a cold
resolution pays for rows of the releases it looks at, not of the hundred thousand files its
pages list (rows were most of the CPU time that reading pages cost).

Each release also keeps the earliest and latest upload time of its files, so exclude-newer
decides most releases without reading their rows. A stored entry that cannot be read is
parsed again and replaced.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import mmap
import operator
import os
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.cache.atomic import write_bytes
from kiln.core.dist import DistFile, parse_name_version, version_of
from kiln.core.errors import KilnError
from kiln.core.releases import LazyFiles, Releases
from kiln.core.upload_times import parse_upload_time
from kiln.index.page_rows import Row, file_of
from kiln.index.pages import read_entries
from kiln.index.simple_api import JsonEntries, json_entry_filename, json_rows

if TYPE_CHECKING:
    from kiln.net.client import Page, Response

# Bumped whenever the stored shape or a row's fields change.
_FORMAT = "5:releases"
# Before the list of releases: its length in bytes.
_HEAD = struct.Struct("<Q")
_NO_TIME = float("nan")


class Release:
    """The files of one (project, version) on one page, as rows until they are asked for."""

    __slots__ = (
        "_blob", "_entries", "_rows", "_span", "earliest", "json_page", "latest", "name",
        "shown", "source", "untimed", "version",
    )  # fmt: skip

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
        *,
        entries: list[Any] | None = None,
        json_page: str | None = None,
        shown: str = "",
        span: tuple[_Stored, int, int] | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self._rows = rows
        self._blob = blob
        # Where the blob lies in a stored page (mapped, or in memory), until it is read.
        self._span = span
        # With ``json_page`` (the page's URL), ``entries`` and the blob hold the release's
        # JSON entries, made into rows on first use.
        self._entries = entries
        self.json_page = json_page
        self.shown = shown
        # POSIX times of the first and last upload (NaN when no file has one), and how
        # many files have no upload time.
        self.earliest = earliest
        self.latest = latest
        self.untimed = untimed
        self.source = source  # the stored entry the blob came from, for its damage

    def _stored_blob(self) -> bytes | None:
        blob = self._blob
        if blob is None and self._span is not None:
            data, start, end = self._span
            blob = self._blob = data[start:end]
            self._span = None
        return blob

    def rows(self) -> list[Row]:
        rows = self._rows
        if rows is None:
            page = self.json_page
            if page is None:
                rows = _rows(self._stored_blob(), self.source)
            else:
                entries = self._entries
                if entries is None:
                    entries = _entries(self._stored_blob(), self.source)
                rows = read_entries(page, self.shown, lambda: json_rows(entries, page))
            self._rows = rows
        return rows

    def stored(self) -> tuple[object, ...]:
        blob = self._stored_blob()
        if blob is None:
            blob = marshal.dumps(self._entries if self.json_page is not None else self._rows)
            if self.json_page is not None and self._rows is None:
                # Decoded entries take far more memory than their blob: a cold lock of the
                # 30-package ML project peaked at 273 MB holding them, 181-190 MB without.
                self._blob, self._entries = blob, None
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
    ) -> tuple[bool, Releases, LazyFiles, int]:
        """``name``'s releases as (any listed, kept, dropped, untimed): with a ``cutoff``,
        files uploaded at or after it, or with no upload time, are dropped and counted."""
        index = self.index
        listed = False
        makers: dict[Version, Callable[[], tuple[DistFile, ...]]] = {}
        dropped: list[Callable[[], Iterable[DistFile]] | list[DistFile]] = []
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
                dropped.append(_maker(release.rows, index, key))
                continue
            kept: list[Row] = []
            gone: list[DistFile] = []
            assert cutoff is not None
            for row in release.rows():
                uploaded = row[5]
                when = None if uploaded is None else parse_upload_time(uploaded)
                if when is not None and when < cutoff:
                    kept.append(row)
                else:
                    gone.append(file_of(row, index, key))
            dropped.append(gone)
            if kept:
                makers[release.version] = _maker(lambda rows=kept: rows, index, key)  # type: ignore[misc]
        return listed, Releases(makers), LazyFiles(dropped), untimed


def _maker(
    rows: Callable[[], list[Row]], index: str, key: tuple[NormalizedName, Version]
) -> Callable[[], tuple[DistFile, ...]]:
    return lambda: tuple(file_of(row, index, key) for row in rows())


def group_entries(listing: JsonEntries, shown: str) -> list[Release]:
    """A JSON page's entries grouped as `group_rows` groups rows, left as JSON decoded them."""
    groups: dict[tuple[NormalizedName, Version], list[Any]] = {}
    stems: dict[str, tuple[NormalizedName, Version] | None] = {}
    for entry in listing.entries:
        # Inline for a page's hundred thousand entries: what `json_entry_filename` checks.
        filename = entry.get("filename") if type(entry) is dict else None
        if type(filename) is not str or type(entry.get("url")) is not str:
            filename = json_entry_filename(entry)  # a subclass of str or dict, or nothing
            if filename is None:
                continue
        if filename.endswith(".whl") and filename.count("-") == 4:
            stem = filename[: filename.index("-", filename.index("-") + 1)]
            parsed = stems[stem] if stem in stems else _name_version(filename, stems)
        else:
            parsed = _name_version(filename, stems)
        if parsed is not None:
            groups.setdefault(parsed, []).append(entry)
    releases: list[Release] = []
    for (name, version), group in groups.items():
        earliest, latest, untimed = _times([entry.get("upload-time") for entry in group])
        releases.append(
            Release(
                name, version, None, None, earliest, latest, untimed,
                entries=group, json_page=listing.page_url, shown=shown,
            )
        )  # fmt: skip
    return releases


def _name_version(
    filename: str, stems: dict[str, tuple[NormalizedName, Version] | None]
) -> tuple[NormalizedName, Version] | None:
    if filename.endswith(".whl") and filename.count("-") == 4:
        # One release's wheels share `name-version`: parse it once.
        stem = filename[: filename.index("-", filename.index("-") + 1)]
        if stem in stems:
            return stems[stem]
        parsed = stems[stem] = parse_name_version(filename)
        return parsed
    if filename.endswith(".tar.gz") and filename[:-7] in stems:
        # Named as its release's wheels are (a wheel's name part has no dash, so the sdist's
        # `name-version` splits where theirs did): the same parse.
        return stems[filename[:-7]]
    return parse_name_version(filename)


# PyPI's upload times, `2024-10-29T17:00:00.123456Z`, with a valid clock: of one length and
# layout, so their order as text is their order in time.
_PYPI_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z"
)


_DAY = operator.itemgetter(slice(0, 10))


@functools.lru_cache(maxsize=65536)
def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _times(uploads: Sequence[object]) -> tuple[float, float, int]:
    """The earliest and latest upload time (NaN when none has one) and how many have none
    (anything but text counts as none): as `parse_upload_time` reads each, but PyPI's own
    layout is compared as text and only the first and last are parsed."""
    # Taken as text for the check below, which raises TypeError on anything else.
    texts = cast("Sequence[str]", uploads)
    try:
        # A page's hundred thousand times are nearly all in PyPI's layout: checked a release
        # at a time without a Python-level loop, the usual case costs little.
        if (
            texts
            and all(map(_PYPI_TIME.fullmatch, texts))
            and all(map(_valid_date, map(_DAY, texts)))
        ):
            first, last = parse_upload_time(min(texts)), parse_upload_time(max(texts))
            assert first is not None and last is not None  # the layout and dates were checked
            return first.timestamp(), last.timestamp(), 0
    except TypeError:  # a file without an upload time (None), or one that is not text
        pass
    times: list[float] = []
    plain: list[str] = []
    untimed = 0
    for uploaded in uploads:
        if type(uploaded) is not str:
            untimed += 1
        elif _PYPI_TIME.fullmatch(uploaded) and _valid_date(uploaded[:10]):
            plain.append(uploaded)
        elif (when := parse_upload_time(uploaded)) is None:
            untimed += 1
        else:
            times.append(when.timestamp())
    for text in (min(plain), max(plain)) if plain else ():
        when = parse_upload_time(text)
        assert when is not None  # the layout and the date were checked
        times.append(when.timestamp())
    if not times:
        return _NO_TIME, _NO_TIME, untimed
    return min(times), max(times), untimed


def group_rows(rows: list[Row]) -> list[Release]:
    """Rows grouped by the (project, version) of their file names, in page order; files
    whose names say neither are left out, as no resolution could use them."""
    groups: dict[tuple[NormalizedName, Version], list[Row]] = {}
    stems: dict[str, tuple[NormalizedName, Version] | None] = {}
    for row in rows:
        parsed = _name_version(row[0], stems)
        if parsed is not None:
            groups.setdefault(parsed, []).append(row)
    releases: list[Release] = []
    for (name, version), group in groups.items():
        earliest, latest, untimed = _times([row[5] for row in group])
        releases.append(Release(name, version, group, None, earliest, latest, untimed))
    return releases


def remembered_page(
    folder: Path,
    page: Page,
    index: str,
    parse: Callable[[Response], list[Row] | JsonEntries],
    elsewhere: Callable[[Response], bytes | None] | None = None,
) -> PageListing:
    """The page's releases: read back when a page of the same body was parsed before (found
    by the body's digest, so its bytes are not read), else ``parse``d (rows, or a JSON page's
    entries) and stored. ``elsewhere`` may make the `stored_form` instead (a helper
    process, `page_worker`); when it answers None the page is parsed here."""
    entry = _entry(folder, page.url, index, page.digest)
    with contextlib.suppress(OSError, ValueError):
        releases = _load(_mapped(entry), entry, index)
        if releases is not None:
            return PageListing(releases, index)
    response, digest = page.read()
    if digest != page.digest:
        # Its cache entry was rewritten meanwhile: this parse is of that body.
        entry = _entry(folder, response.url, index, digest)
    made = elsewhere(response) if elsewhere is not None else None
    if made is not None and (releases := _load(made, entry, index)) is not None:
        with contextlib.suppress(OSError):
            write_bytes(entry, made)
        return PageListing(releases, index)
    listing = parse(response)
    if isinstance(listing, JsonEntries):
        releases, json_page = group_entries(listing, index), listing.page_url
    else:
        releases, json_page = group_rows(listing), None
    with contextlib.suppress(OSError, ValueError):
        write_bytes(entry, stored_form(releases, json_page))
    return PageListing(releases, index)


def stored_form(releases: list[Release], json_page: str | None) -> bytes:
    """What a parsed page is kept as (``json_page``: its URL when the releases hold JSON
    entries), and what `_load` reads back: the length of the list of releases, the list
    (each release with the offset and length of its blob), then the blobs."""
    listed: list[tuple[object, ...]] = []
    blobs: list[bytes] = []
    offset = 0
    for release in releases:
        name, version, earliest, latest, untimed, blob = release.stored()
        assert isinstance(blob, bytes)
        listed.append((name, version, earliest, latest, untimed, offset, len(blob)))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps((_FORMAT, json_page, listed))
    return b"".join([_HEAD.pack(len(head)), head, *blobs])


# What a stored page is read from: the bytes a helper made, or the file mapped.
_Stored = bytes | mmap.mmap


def _mapped(entry: Path) -> _Stored:
    """The stored page's file, mapped: only the pages of its list and of the blobs a
    resolution reads are read. A page is replaced by a rename, never written in place, so
    the mapping keeps the file it was made from."""
    if os.name == "nt":
        # Windows cannot replace a file that is mapped: read it whole there.
        return entry.read_bytes()
    with open(entry, "rb") as f:
        # An empty file cannot be mapped (ValueError): the caller parses the page again.
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _entry(folder: Path, page_url: str, index: str, digest: str) -> Path:
    key = hashlib.sha256(f"{_FORMAT}\n{page_url}\n{index}\n{digest}\n".encode()).hexdigest()
    return folder / key[:2] / f"{key}.marshal"


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
    return _damaged(source)


def _damaged(source: Path | None) -> NoReturn:
    # Written whole or not at all, so damaged after the fact: dropped, for the next run to
    # read the page afresh.
    if source is not None:
        with contextlib.suppress(OSError):
            source.unlink()
    raise KilnError(
        f"a kept index page in the cache is damaged (`{source}`)",
        hint="run the command again: the page is read afresh (or run `kiln cache clean`)",
    )


def _entries(blob: bytes | None, source: Path | None) -> list[Any]:
    try:
        entries = marshal.loads(blob)  # type: ignore[arg-type]
        if isinstance(entries, list) and all(type(e) is dict for e in entries):
            return entries
    except (EOFError, ValueError, TypeError):
        pass
    return _damaged(source)


def _load(data: _Stored, source: Path, shown: str) -> list[Release] | None:
    size = len(data)
    if size < _HEAD.size:
        return None
    (length,) = _HEAD.unpack_from(data)
    base = _HEAD.size + length
    if base > size:
        return None
    try:
        with memoryview(data) as view:
            stored = marshal.loads(view[_HEAD.size : base])
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == _FORMAT):
        return None
    json_page = stored[1]
    if json_page is not None and type(json_page) is not str:
        return None
    try:
        releases = []
        for name, version, early, late, untimed, offset, length in stored[2]:
            if type(offset) is not int or type(length) is not int:
                return None
            start = base + offset
            if offset < 0 or length < 0 or start + length > size:
                return None
            releases.append(
                Release(
                    NormalizedName(name), version_of(version), None, None, early, late,
                    untimed, source, json_page=json_page, shown=shown,
                    span=(data, start, start + length),
                )
            )  # fmt: skip
    except (TypeError, ValueError):
        return None
    return releases
