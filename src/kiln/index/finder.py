"""The files of a project across indexes and find-links, by index strategy; their metadata.

`IndexFinder` is what the resolver asks (`core.protocols.PackageFinder`) and what the
installer downloads through (`core.protocols.Downloader`). It is safe to call from many
threads: the resolver looks ahead in parallel while the installer downloads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.errors import KilnError, NotFoundError
from kiln.core.metadata import CoreMetadata
from kiln.core.protocols import FindResult, Found, NotFound, ProgressCallback
from kiln.index.flat import list_flat
from kiln.index.metadata import archive_path, fetch_metadata
from kiln.index.simple_api import is_json_page, parse_html_page, parse_json_page
from kiln.net.failures import status_error
from kiln.net.locations import path_to_url
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import HttpClient

Strategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
K = TypeVar("K")
V = TypeVar("V")

# PEP 691 content negotiation: JSON when the index has it, HTML from older ones.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
PREFETCH_WORKERS = 8


@dataclass(frozen=True)
class IndexUrl:
    url: str
    name: str | None = None
    # Explicit indexes serve only packages whose source names them (`find_on`).
    explicit: bool = False
    # The default index is consulted last, after every other index.
    default: bool = False
    format: Literal["simple", "flat"] = "simple"

    @property
    def shown(self) -> str:
        return redact_url(self.url)


class _Memo:
    """Compute each key once, even when threads ask for it at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[object, Future[object]] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
                # A failure is not remembered: the next caller may succeed (e.g. after retries).
                with self._lock:
                    self._futures.pop(key, None)
        return future.result()  # type: ignore[return-value]


class IndexFinder:
    def __init__(
        self,
        indexes: Sequence[IndexUrl],
        find_links: Sequence[str],
        client: HttpClient,
        cache: Cache,
        *,
        strategy: Strategy = "first-index",
        exclude_newer: datetime | None = None,
    ) -> None:
        # The default index goes last; the others keep the order they were given in.
        self.indexes = tuple(sorted(indexes, key=lambda index: index.default))
        self.find_links = tuple(find_links)
        self.client = client
        self.cache = cache
        self.strategy = strategy
        self.exclude_newer = _utc(exclude_newer) if exclude_newer is not None else None
        for index in self.indexes:
            if index.name:
                client.credentials.register(index.name, index.url)
            else:
                client.credentials.remember(index.url)
        self._pages = _Memo()
        self._flat = _Memo()
        self._found = _Memo()
        self._metadata = _Memo()
        self._pool_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    # -- PackageFinder ---------------------------------------------------------------------

    def find(self, name: NormalizedName) -> FindResult:
        return self._found.get(("find", name), lambda: self._find(name))

    def find_on(self, name: NormalizedName, index_name: str) -> FindResult:
        """The files of ``name`` on the index called ``index_name`` only (pinned sources)."""
        matches = [index for index in self.indexes if index.name == index_name]
        if not matches:
            raise NotFoundError(
                f"no index is named `{index_name}`",
                hint="define it under `[[tool.uv.index]]` with `name = ...`",
            )
        index = matches[0]

        def search() -> FindResult:
            files = self._keep(name, self._on_index(index, name))
            return Found(tuple(files)) if files else NotFound(name, (index.shown,))

        return self._found.get(("on", index_name, name), search)

    def metadata(self, file: DistFile) -> CoreMetadata:
        return self._metadata.get(file.url, lambda: fetch_metadata(file, self.client, self.cache))

    def prefetch(self, files: Sequence[DistFile]) -> None:
        pool = self._executor()
        for file in files:
            if file.is_wheel:
                pool.submit(self._warm, file)

    # -- Downloader ------------------------------------------------------------------------

    def download(self, file: DistFile, dest: Path, progress: ProgressCallback | None = None) -> str:
        archive = archive_path(file, self.cache)
        if archive.is_file():
            # The metadata fallback downloaded this wheel already: copy it, checking it again.
            try:
                sha256 = self.client.download(
                    path_to_url(archive), dest, hashes=file.hashes, progress=progress
                )
            except KilnError:
                sha256 = None
            # Used or unusable, the archive has served its purpose.
            with contextlib.suppress(OSError):
                archive.unlink()
            if sha256 is not None:
                return sha256
        return self.client.download(file.url, dest, hashes=file.hashes, progress=progress)

    def close(self) -> None:
        """Drop prefetches not yet started; commands call this when resolution is done."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    # -- finding ---------------------------------------------------------------------------

    def _find(self, name: NormalizedName) -> FindResult:
        files: list[DistFile] = []
        for location in self.find_links:
            files.extend(self._flat_listing(location).get(name, ()))
        searched = [redact_url(location) for location in self.find_links]
        for index in self.indexes:
            if index.explicit:
                continue
            searched.append(index.shown)
            on_index = self._keep(name, self._on_index(index, name))
            files.extend(on_index)
            if on_index and self.strategy == "first-index":
                break
        files = _unique(self._keep(name, files))
        return Found(tuple(files)) if files else NotFound(name, tuple(searched))

    def _on_index(self, index: IndexUrl, name: NormalizedName) -> list[DistFile]:
        if index.format == "flat":
            return list(self._flat_listing(index.url).get(name, ()))
        return self._pages.get((index.url, name), lambda: self._project_page(index, name))

    def _project_page(self, index: IndexUrl, name: NormalizedName) -> list[DistFile]:
        page_url = index.url.rstrip("/") + f"/{name}/"
        response = self.client.get(page_url, headers={"Accept": ACCEPT}, cache_page=True)
        if response.status in (404, 410):
            return []
        if not response.ok:
            raise status_error(page_url, response.status)
        if is_json_page(response.headers.get("content-type", "")):
            return parse_json_page(response.body, response.url, index.shown)
        return parse_html_page(response.text(), response.url, index.shown)

    def _flat_listing(self, location: str) -> dict[NormalizedName, list[DistFile]]:
        return self._flat.get(("flat", location), lambda: list_flat(location, self.client))

    def _keep(self, name: NormalizedName, files: Sequence[DistFile]) -> list[DistFile]:
        """Files of this project (by file name) that exclude-newer lets through.

        A file without an upload time is kept: flat indexes and download.pytorch.org publish
        none, and dropping them would empty those indexes.
        """
        kept: list[DistFile] = []
        for file in files:
            parsed = file.name_version
            if parsed is None or parsed[0] != name:
                continue
            cutoff, uploaded = self.exclude_newer, file.upload_time
            if cutoff is not None and uploaded is not None and _utc(uploaded) > cutoff:
                continue
            kept.append(file)
        return kept

    # -- prefetch --------------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=PREFETCH_WORKERS, thread_name_prefix="kiln-metadata"
                )
            return self._pool

    def _warm(self, file: DistFile) -> None:
        # Failures surface when the resolver asks for this metadata itself.
        with contextlib.suppress(Exception):
            self.metadata(file)


def _unique(files: list[DistFile]) -> list[DistFile]:
    """One entry per file name: the first index (or find-links) listing it wins."""
    seen: set[str] = set()
    unique: list[DistFile] = []
    for file in files:
        if file.filename not in seen:
            seen.add(file.filename)
            unique.append(file)
    return unique


def _utc(moment: datetime) -> datetime:
    # Naive times are UTC, as uv reads `exclude-newer = "2024-06-01T00:00:00"`.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
