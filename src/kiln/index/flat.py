"""Flat indexes and ``--find-links``: a local folder of archives, or one HTML page of links."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName

from kiln.core.dist import DistFile
from kiln.core.errors import KilnError, NotFoundError
from kiln.core.hashes import Hashes
from kiln.core.records import replace
from kiln.index.pages import parse_page
from kiln.net.failures import status_error, status_text
from kiln.net.locations import local_path, path_to_url
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import HttpClient

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


def list_flat(location: str, client: HttpClient) -> dict[NormalizedName, list[DistFile]]:
    """Every distribution file ``location`` offers, by project.

    Local files carry no hash here (computing one would read every archive in the folder
    up front); `with_digests` gives them one that is computed when first asked for.
    """
    path = local_path(location)
    files: list[DistFile]
    if path is not None:
        if path.is_dir():
            entries = sorted(p for p in path.iterdir() if p.is_file())
        elif path.is_file():
            entries = [path]
        else:
            raise NotFoundError(
                f"find-links location `{location}` does not exist",
                hint="check the path passed to --find-links",
            )
        files = [
            DistFile(filename=entry.name, url=path_to_url(entry), index=location)
            for entry in entries
            if entry.name.endswith(ARCHIVE_SUFFIXES)
        ]
    else:
        files = _remote(location, client)
    grouped: defaultdict[NormalizedName, list[DistFile]] = defaultdict(list)
    for dist in files:
        parsed = dist.name_version
        if parsed is not None:
            grouped[parsed[0]].append(dist)
    return dict(grouped)


def _remote(location: str, client: HttpClient) -> list[DistFile]:
    response = client.get(location, headers={"Accept": "text/html"}, cache_page=True)
    if response.status in (404, 410):
        raise NotFoundError(
            f"find-links location `{redact_url(location)}` was not found",
            causes=(status_text(response.status),),
            hint="check the URL passed to --find-links",
        )
    if not response.ok:
        raise status_error(location, response.status)
    return parse_page(response, redact_url(location))


_CHUNK = 1 << 20
# (path, size, mtime_ns) -> sha256: a file is read once however many times it is asked for,
# and read again once it changes.
_LOCAL_DIGESTS: dict[tuple[str, int, int], str] = {}
_LOCAL_DIGESTS_LOCK = threading.Lock()


class DigestOnDemand(Hashes):
    """The sha256 of a file its listing gave no hash for, computed the first time it is read.

    A lock records the hashes of every file it names, and later commands refuse a lock without
    them; only the few files a resolution picks are worth reading, not the whole listing.
    Equality and hashing go by the file, so comparing candidates reads nothing.
    """

    def __init__(self, source: str, compute: Callable[[], str]) -> None:
        # Not `Hashes.__init__`: `items` is the property below, not a stored field.
        self._source = source
        self._compute = compute

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        return (("sha256", self._compute()),)

    def __bool__(self) -> bool:
        # Always true without reading: a file that exists has a sha256.
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DigestOnDemand) and other._source == self._source

    def __hash__(self) -> int:
        return hash(("sha256-of", self._source))

    def __repr__(self) -> str:
        return f"DigestOnDemand({self._source!r})"


def with_digests(
    listing: Mapping[NormalizedName, list[DistFile]], remote: Callable[[DistFile], str]
) -> dict[NormalizedName, list[DistFile]]:
    """``listing`` with a `DigestOnDemand` for each file that has no hash: a local file is
    read where it lies, a remote one by ``remote`` (which downloads it)."""
    return {
        name: [_with_digest(file, remote) if not file.hashes else file for file in files]
        for name, files in listing.items()
    }


def _with_digest(file: DistFile, remote: Callable[[DistFile], str]) -> DistFile:
    path = local_path(file.url)
    if path is not None:
        found = path
        return replace(file, hashes=DigestOnDemand(file.url, lambda: local_sha256(found, file)))
    return replace(file, hashes=DigestOnDemand(file.url, lambda: remote(file)))


def local_sha256(path: Path, file: DistFile) -> str:
    try:
        info = path.stat()
        with _LOCAL_DIGESTS_LOCK:
            known = _LOCAL_DIGESTS.get((str(path), info.st_size, info.st_mtime_ns))
        if known is not None:
            return known
        with path.open("rb") as f:
            # Keyed by what was read, should the file have changed since the stat above.
            info = os.fstat(f.fileno())
            digest = hashlib.sha256()
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise KilnError(
            f"`{file.filename}` from `{file.index}` cannot be read to compute its hash",
            causes=(exc.strerror or str(exc),),
            hint="check that the file still exists and is readable",
        ) from None
    sha256 = digest.hexdigest()
    with _LOCAL_DIGESTS_LOCK:
        _LOCAL_DIGESTS[(str(path), info.st_size, info.st_mtime_ns)] = sha256
    return sha256
