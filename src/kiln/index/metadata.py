"""A distribution's core metadata, fetched as cheaply as the index allows.

In order: the metadata cache; a local wheel's own zip; a wheel the metadata fallback already
downloaded; PEP 658 ``<url>.metadata`` when the index advertises it, or when it is an index
that serves such files without saying so (some mirrors do: `MetadataProbe` learns it from the
first try); HTTP range requests reading only the wheel's central directory and METADATA; the
whole wheel, kept in the cache's archive bucket so installing it later does not download it
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import threading
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from kiln.cache.atomic import write_bytes
from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.errors import HashMismatchError, KilnError
from kiln.core.metadata import CoreMetadata, InvalidMetadata
from kiln.core.together import first_answer
from kiln.index.lazy_zip import LazyRemoteFile, RangesUnsupported, read_member, reads_ahead
from kiln.net.locations import local_path
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import HttpClient, Response


# Enough for the central directory and METADATA of all but the largest wheels.
TAIL_BYTES = 64 * 1024
# How long what a probe learned about an index stands (`MetadataProbe`).
PROBE_MEMORY_SECONDS = 7 * 24 * 3600


def cache_key(file: DistFile) -> str:
    """The file's sha256 when the index gave one, else the sha256 of its URL."""
    return file.hashes.get("sha256") or hashlib.sha256(file.url.encode()).hexdigest()


def archive_path(file: DistFile, cache: Cache) -> Path:
    """Where the full-download fallback leaves a wheel for the installer to pick up."""
    return cache.archives / f"{cache_key(file)}.whl"


class MetadataProbe:
    """Whether one index serves ``<url>.metadata`` files it does not advertise.

    Unknown until a first probe answers, and only one probe is out while it is: the files
    fetched meanwhile are read from their zips alone. A miss turns probing off for the
    index, so an index without them costs one extra request per run, and nobody waits for
    it: the zip is read beside the probe and whichever answers first is taken. With
    ``remembered``, what was learned is kept there for a week (`remember`), and a later
    run asks no index twice.
    """

    def __init__(self, remembered: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._served: bool | None = None
        self._out = False  # the first probe is on its way
        self._unsaved = False  # learned, not yet written to ``remembered``
        self._remembered = remembered
        if remembered is not None:
            with contextlib.suppress(OSError):
                if time.time() - remembered.stat().st_mtime < PROBE_MEMORY_SECONDS:
                    self._served = {b"served": True, b"not served": False}.get(
                        remembered.read_bytes()
                    )

    def served(self) -> bool | None:
        """What is known: True (it serves them), False (it does not), None (not yet)."""
        with self._lock:
            return self._served

    def claim(self) -> bool:
        """Whether this fetch should probe: the index is known to serve them, or nothing is
        known and no other probe is out (this one then is, until `learn` or `failed`)."""
        with self._lock:
            if self._served is not None:
                return self._served
            if self._out:
                return False
            self._out = True
            return True

    def failed(self) -> None:
        """A probe that got no answer (a network error, after the client's retries): not
        asked again in this run, and nothing is remembered. An index that fails every
        unknown URL would otherwise cost each file a probe and its retries."""
        with self._lock:
            self._out = False
            if self._served is None:
                self._served = False

    def learn(self, served: bool) -> None:
        """What a probe found. It may run on a thread that lost a race and outlives the
        command, so it writes nothing: `remember` does, from the command's own threads."""
        with self._lock:
            self._out = False
            if (self._served is None or served) and self._served is not served:
                self._served = served
                self._unsaved = True

    def remember(self) -> None:
        """Keep what was learned and not kept yet; a saving only, so a failed write costs a
        request in a later run."""
        with self._lock:
            if not self._unsaved or self._remembered is None:
                return
            self._unsaved = False
            served = self._served
        with contextlib.suppress(OSError):
            write_bytes(self._remembered, b"served" if served else b"not served")


def fetch_metadata(
    file: DistFile, client: HttpClient, cache: Cache, *, probe: MetadataProbe | None = None
) -> CoreMetadata:
    if not file.is_wheel:
        raise KilnError(
            f"`{file.filename}` is a source distribution; building sdists arrives with the "
            "build frontend",
            hint="pin a version that publishes a wheel for this platform",
        )
    source = local_path(file.url)
    if source is not None:
        return _checked(file, _read_wheel(source, file))
    entry = cache.metadata / f"{cache_key(file)}.METADATA"
    with contextlib.suppress(OSError):
        data = entry.read_bytes()
        with contextlib.suppress(KilnError):
            return _checked(file, data)
    data, checked = _fetch(file, client, cache, probe)
    metadata = checked if checked is not None else _checked(file, data)
    with contextlib.suppress(OSError):
        write_bytes(entry, data)
    return metadata


def _fetch(
    file: DistFile, client: HttpClient, cache: Cache, probe: MetadataProbe | None
) -> tuple[bytes, CoreMetadata | None]:
    """The METADATA bytes, and their parse when getting them took one already."""
    archive = archive_path(file, cache)
    if archive.is_file():
        with contextlib.suppress(KilnError, OSError):
            return _read_wheel(archive, file), None
    if file.metadata_file is not None:
        data = _pep658(file, client)
        if data is not None:
            return data, None
    # A small wheel that came whole in the first range is kept for the installer, but only
    # from this thread: a read that lost the race below may still be running when the
    # command ends and its `--no-cache` folder is removed.
    wholes: list[bytes] = []

    def zipped() -> tuple[bytes, None] | None:
        read = _from_zip(file, client)
        if read is None:
            return None
        data, whole = read
        if whole is not None:
            wholes.append(whole)
        return data, None

    answer: tuple[bytes, CoreMetadata | None] | None
    if file.metadata_file is None and probe is not None and probe.claim():

        def probed() -> tuple[bytes, CoreMetadata] | None:
            try:
                found = _unadvertised(file, client)
            except BaseException:
                probe.failed()
                raise
            probe.learn(found is not None)
            return found

        # Asked at once, the first answer taken: this mirror answered its misses in
        # 90-200 ms and a range in 5-40 ms, and a cold lock's first metadata (torch's)
        # waited for the miss before anything else could be asked for.
        try:
            answer = first_answer([zipped, probed])
        finally:
            probe.remember()
    else:
        answer = zipped()
    if wholes:
        _keep_archive(file, wholes[0], cache)
    if answer is not None:
        return answer
    client.download(file.url, archive, hashes=file.hashes)
    return _read_wheel(archive, file), None


def _pep658(file: DistFile, client: HttpClient) -> bytes | None:
    url = file.url + ".metadata"
    response = client.get(url)
    if response.status != 200:
        # Advertised but not served: the wheel itself still has it.
        return None
    expected = file.metadata_file.strongest() if file.metadata_file else None
    if expected is not None:
        algo, digest = expected
        got = hashlib.new(algo, response.body).hexdigest()
        if got != digest:
            raise HashMismatchError(
                f"hash mismatch for `{file.filename}.metadata`",
                causes=(
                    f"expected {algo}:{digest}",
                    f"got {algo}:{got}",
                    f"from `{redact_url(url)}`",
                ),
                hint="the index served different metadata than it listed; run with --refresh "
                "or report it to the index",
            )
    return response.body


def _unadvertised(file: DistFile, client: HttpClient) -> tuple[bytes, CoreMetadata] | None:
    """``<url>.metadata`` from an index that did not list it, and its parse; only if it
    really is this file's metadata (a server may answer any URL with a page)."""
    response = client.get(file.url + ".metadata")
    if response.status != 200:
        return None
    try:
        return response.body, _checked(file, response.body)
    except KilnError:
        return None


def _tail(file: DistFile, client: HttpClient) -> Response | None:
    """The wheel's last `TAIL_BYTES`; None when the server answers with no range."""
    return client.fetch_range(file.url, -TAIL_BYTES, None)


def _from_zip(file: DistFile, client: HttpClient) -> tuple[bytes, bytes | None] | None:
    """METADATA read out of the wheel by range requests, and the whole wheel when it came
    in the first range; None when the server cannot serve ranges of it or what they give is
    no readable zip (the whole wheel is downloaded then)."""
    try:
        return _from_ranges(file, _tail(file, client), client)
    except (RangesUnsupported, zipfile.BadZipFile, EOFError):
        return None


def _from_ranges(
    file: DistFile, tail: Response | None, client: HttpClient
) -> tuple[bytes, bytes | None]:
    if tail is None:
        raise RangesUnsupported
    span = _content_range(tail.headers.get("content-range", ""))
    if span is None:
        raise RangesUnsupported
    start, size = span
    if start == 0 and len(tail.body) == size:
        return _metadata_from_zip(zipfile.ZipFile(io.BytesIO(tail.body)), file), tail.body

    def fetch(first: int, last: int) -> bytes:
        data = client.get_range(file.url, first, last)
        if data is None or len(data) != last - first + 1:
            raise RangesUnsupported
        return data

    remote = LazyRemoteFile(size, fetch, {start: tail.body})
    remote.ensure_all(reads_ahead(tail.body, start, b".dist-info/METADATA"))
    metadata = read_member(remote, lambda names: _metadata_name(names, file), "/METADATA")
    return metadata, None


def _content_range(value: str) -> tuple[int, int] | None:
    """``bytes 100-199/200`` -> (100, 200); None when the total is unknown."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+)\s*", value)
    if match is None:
        return None
    return int(match[1]), int(match[3])


def _keep_archive(file: DistFile, data: bytes, cache: Cache) -> None:
    """A wheel that came whole, kept for the installer when it is the listed file."""
    sha256 = file.hashes.get("sha256")
    if sha256 is None or hashlib.sha256(data).hexdigest() != sha256:
        return
    with contextlib.suppress(OSError):
        write_bytes(archive_path(file, cache), data)


def _read_wheel(path: Path, file: DistFile) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            return _metadata_from_zip(archive, file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidMetadata(
            f"`{file.filename}` is not a readable wheel",
            causes=(str(exc),),
            hint="the file is damaged; run with --refresh, or rebuild it",
        ) from None


def _metadata_from_zip(archive: zipfile.ZipFile, file: DistFile) -> bytes:
    return archive.read(_metadata_name(archive.namelist(), file))


def _metadata_name(names: list[str], file: DistFile) -> str:
    """The top-level ``*.dist-info/METADATA``, preferring the one named for the project."""
    found = [n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
    if not found:
        raise InvalidMetadata(
            f"wheel `{file.filename}` has no `.dist-info/METADATA`",
            hint="the wheel is broken; report it to its publisher",
        )
    parsed = file.name_version
    if parsed is not None and len(found) > 1:
        for name in found:
            project = name.split("/", 1)[0].removesuffix(".dist-info").rsplit("-", 1)[0]
            if canonicalize_name(project) == parsed[0]:
                return name
    return found[0]


def _checked(file: DistFile, data: bytes) -> CoreMetadata:
    """Parse, and insist the metadata describes the release the file name says it is."""
    metadata = CoreMetadata.parse(data, origin=f"METADATA of `{file.filename}`")
    parsed = file.name_version
    if parsed is not None and (metadata.name, metadata.version) != parsed:
        raise InvalidMetadata(
            f"`{file.filename}` contains metadata for `{metadata.display_name} {metadata.version}`",
            hint="the file name and its contents disagree; report it to the index",
        )
    return metadata
