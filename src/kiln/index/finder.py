"""The files of a project across indexes and find-links, by index strategy; their metadata.

`IndexFinder` is what the resolver asks (`core.protocols.PackageFinder`) and what the
installer downloads through (`core.protocols.Downloader`). It is safe to call from many
threads: the resolver looks ahead in parallel while the installer downloads.

Which indexes a project is looked up on, as uv decides it:
- a project pinned to an index (``pins``, from `[tool.uv.sources]`) is looked up there only;
- any other project on the non-explicit indexes in priority order, the default index last,
  plus every find-links location;
- ``first-index`` stops at the first index that lists the project (even when exclude-newer
  then drops every file there: falling through to the next index is what dependency
  confusion attacks rely on); the ``unsafe-*`` strategies read every index, taking each
  version from the first index that lists it.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.cache.atomic import new_file_mode
from kiln.cache.layout import Cache
from kiln.core.dist import DistFile
from kiln.core.errors import KilnError, NetworkError, NotFoundError, OfflineError
from kiln.core.hashes import Hashes
from kiln.core.metadata import CoreMetadata
from kiln.core.once import Once
from kiln.core.protocols import FindResult, Found, NotFound, ProgressCallback
from kiln.core.records import replace
from kiln.core.releases import LazyFiles, Releases
from kiln.index.flat import list_flat, with_digests
from kiln.index.index_url import IndexUrl
from kiln.index.metadata import MetadataProbe, archive_path, fetch_metadata
from kiln.index.pages import page_listing
from kiln.index.parsed_pages import PageListing, remembered_page
from kiln.index.simple_api import is_json_page
from kiln.net.auth import env_var_prefix, userinfo
from kiln.net.failures import status_error, status_text
from kiln.net.locations import is_remote, local_path, path_to_url
from kiln.net.redact import redact_url

if TYPE_CHECKING:
    from kiln.net.client import HttpClient, Response

__all__ = ["ACCEPT", "IndexFinder", "IndexUrl", "Strategy"]

Strategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]

# PEP 691 content negotiation: JSON when the index has it, HTML from older ones.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
PREFETCH_WORKERS = 8


class _Shared:
    """What every view of one finder (`IndexFinder.with_pins`) shares: pages, metadata,
    the prefetch pool, and what was learned about each index."""

    def __init__(self) -> None:
        self.pages = Once()
        self.flat = Once()
        self.digests = Once()
        self.found = Once()
        self.metadata = Once()
        self.pool_lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.probes: dict[str, MetadataProbe] = {}
        self.notes_lock = threading.Lock()
        # (project, index label) -> files exclude-newer dropped for lack of an upload time
        self.untimed: dict[tuple[NormalizedName, str], int] = {}


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
        exclude_newer_package: Mapping[NormalizedName, datetime | None] | None = None,
        pins: Mapping[NormalizedName, str] | None = None,
        sdist_metadata: Callable[[DistFile], CoreMetadata] | None = None,
    ) -> None:
        # The default index goes last; the others keep the order they were given in.
        self.indexes = tuple(sorted(indexes, key=lambda index: index.default))
        self.find_links = tuple(find_links)
        self.client = client
        self.cache = cache
        self.strategy = strategy
        self.exclude_newer = _utc(exclude_newer) if exclude_newer is not None else None
        self.exclude_newer_package = {
            name: _utc(when) if when is not None else None
            for name, when in (exclude_newer_package or {}).items()
        }
        self.pins: dict[NormalizedName, str] = dict(pins or {})
        # Reads an sdist's metadata by building it; set by the commands that can build.
        self.sdist_metadata = sdist_metadata
        self._shared = _Shared()
        for index in self.indexes:
            self._shared.probes[index.shown] = MetadataProbe(_probe_memory(index, client, cache))
            _prepare_credentials(index, client)

    def cutoff(self, name: NormalizedName) -> datetime | None:
        """exclude-newer for ``name``: its own `exclude-newer-package` entry first."""
        if name in self.exclude_newer_package:
            return self.exclude_newer_package[name]
        return self.exclude_newer

    def with_pins(self, pins: Mapping[NormalizedName, str]) -> IndexFinder:
        """This finder with other pins, sharing its pages, metadata and connections: the
        project resolver pins per target (`settings.index_settings.pins_for`)."""
        twin = copy.copy(self)
        twin.pins = dict(pins)
        return twin

    # -- PackageFinder ---------------------------------------------------------------------

    def find(self, name: NormalizedName) -> FindResult:
        pinned = self.pins.get(name)
        if pinned is not None:
            return self.find_on(name, pinned)
        return self._buildable(self._shared.found.get(("find", name), lambda: self._find(name)))

    def without_builds(self) -> IndexFinder:
        """This finder, sharing everything, but offering no sdist as a candidate: what a
        build environment is filled from, so that one build never needs another."""
        twin = copy.copy(self)
        twin.sdist_metadata = None
        return twin

    def _buildable(self, found: FindResult) -> FindResult:
        # Found results are shared by every view; whether sdists count is this view's own.
        if isinstance(found, Found) and self.sdist_metadata is not None:
            return replace(found, builds_sdists=True)
        return found

    def find_on(self, name: NormalizedName, index_name: str) -> FindResult:
        """The files of ``name`` on the index called ``index_name`` only (pinned sources);
        explicit or not, the index is consulted, and find-links are not."""
        index = self._named(index_name)

        def search() -> FindResult:
            _, kept, dropped = self._listed(index, name)
            if kept:
                return Found(kept, dropped, self.cutoff(name))
            return NotFound(name, (index.shown,), dropped, self.cutoff(name))

        return self._buildable(self._shared.found.get(("on", index_name, name), search))

    def metadata(self, file: DistFile) -> CoreMetadata:
        hook = self.sdist_metadata
        if not file.is_wheel and hook is not None:
            return self._shared.metadata.get(file.url, lambda: hook(file))
        probe = self._shared.probes.get(file.index)
        return self._shared.metadata.get(
            file.url, lambda: fetch_metadata(file, self.client, self.cache, probe=probe)
        )

    def prefetch(self, files: Sequence[DistFile]) -> None:
        pool = self._executor()
        for file in files:
            if file.is_wheel:
                pool.submit(self._warm, file)

    def used_network(self) -> bool:
        return self.client.requests_sent > 0

    def may_use_network(self) -> bool:
        return not self.client.offline

    def answers_from_cache(self, names: Iterable[NormalizedName]) -> bool:
        """Whether finding each of ``names`` needs no request: every index page it would
        read is fresh in the cache. Find-links and flat indexes are not looked at: with
        either, the answer is no; so is it where one index's page is missing although the
        first-index strategy would stop before it. A wrong no only costs a look-ahead."""
        if self.find_links or any(index.format == "flat" for index in self.indexes):
            return False
        for name in names:
            pinned = self.pins.get(name)
            indexes = (
                [index for index in self.indexes if index.name == pinned]
                if pinned is not None
                else [index for index in self.indexes if not index.explicit]
            )
            for index in indexes:
                if not self.client.page_is_kept(_page_url(index, name), ACCEPT):
                    return False
        return True

    def prefetch_projects(self, names: Iterable[NormalizedName]) -> None:
        """Start reading these projects' pages, for a resolver that is about to ask for
        them: a cold lock's first requests then overlap the loading of its own modules."""
        names = list(names)
        # Made by the first worker, the transport's imports ran beside the resolver's own on
        # the caller's thread, and the first request left 35-50 ms after this call; made
        # here first, 25 ms after. Whether the first page needs asking stands for them all:
        # a warm lock reads one cache entry ahead of its workers, not every one.
        remote = any(is_remote(index.url) for index in self.indexes)
        if remote and not self.answers_from_cache(names[:1]):
            self.client.make_transport()
        pool = self._executor()
        for name in names:
            pool.submit(self._warm_page, name)

    def notes(self) -> list[str]:
        """Warnings worth showing after a run: files exclude-newer dropped for having no
        upload time (uv drops them too, and says so)."""
        with self._shared.notes_lock:
            untimed = sorted(self._shared.untimed.items())
        cutoff = _moment(self.exclude_newer) if self.exclude_newer else ""
        return [
            f"{count} file{'s' if count != 1 else ''} of `{name}` on `{label}` "
            f"{'have' if count != 1 else 'has'} no upload time and "
            f"{'were' if count != 1 else 'was'} left out by exclude-newer ({cutoff})"
            for (name, label), count in untimed
        ]

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
        """Drop prefetches not yet started, and keep what the metadata probes learned;
        commands call this when resolution is done."""
        for probe in self._shared.probes.values():
            probe.remember()
        with self._shared.pool_lock:
            if self._shared.pool is not None:
                self._shared.pool.shutdown(wait=False, cancel_futures=True)
                self._shared.pool = None

    # -- finding ---------------------------------------------------------------------------

    def _named(self, index_name: str) -> IndexUrl:
        for index in self.indexes:
            if index.name == index_name:
                return index
        known = sorted(index.name for index in self.indexes if index.name)
        raise NotFoundError(
            f"no index is named `{index_name}`",
            causes=(f"indexes with names: {', '.join(f'`{n}`' for n in known)}",) if known else (),
            hint="define it under `[[tool.uv.index]]` with `name = ...`, or fix the name in "
            "`[tool.uv.sources]`",
        )

    def _find(self, name: NormalizedName) -> FindResult:
        sources = [
            Releases.of(self._flat_listing(location).get(name, ()), name)
            for location in self.find_links
        ]
        searched = [redact_url(location) for location in self.find_links]
        priority = [redact_url(location) for location in self.find_links]
        excluded: list[Sequence[DistFile]] = []
        taken: set[Version] = set()
        for index in self.indexes:
            if index.explicit:
                continue
            searched.append(index.shown)
            listed, kept, dropped = self._listed(index, name)
            excluded.append(dropped)
            if self.strategy != "first-index":
                # A version several indexes list comes from the first of them, as in uv.
                kept = kept.restricted(lambda version: version not in taken)
                taken.update(kept)
            if kept:
                sources.append(kept)
                priority.append(index.shown)
            if listed and self.strategy == "first-index":
                break
        releases = Releases.merged([source for source in sources if source])
        ordered = tuple(priority) if self.strategy == "unsafe-first-match" else ()
        if releases:
            return Found(releases, LazyFiles(excluded), self.cutoff(name), ordered)
        return NotFound(name, tuple(searched), LazyFiles(excluded), self.cutoff(name))

    def _listed(
        self, index: IndexUrl, name: NormalizedName
    ) -> tuple[bool, Releases, Sequence[DistFile]]:
        """What ``index`` lists for ``name``: (whether it lists any file, the releases
        exclude-newer keeps, the files it drops).

        On a Simple API index a file without an upload time is dropped, as uv drops it (and
        the run warns, `notes`); a flat index has no upload times at all, so its files stay.
        """
        cutoff = self.cutoff(name)
        if index.format == "flat":
            files = [
                f
                for f in self._flat_listing(index.url).get(name, ())
                if (parsed := f.name_version) is not None and parsed[0] == name
            ]
            kept: list[DistFile] = []
            dropped: list[DistFile] = []
            for file in files:
                (kept if cutoff is None or _before(file, cutoff) else dropped).append(file)
            return bool(files), Releases.of(kept, name), dropped
        page = self._shared.pages.get((index.url, name), lambda: self._project_page(index, name))
        if page is None:
            return False, Releases({}), ()
        listed, releases, excluded, untimed = page.releases(name, cutoff)
        if untimed:
            with self._shared.notes_lock:
                self._shared.untimed[(name, index.label)] = untimed
        return listed, releases, excluded

    def _project_page(self, index: IndexUrl, name: NormalizedName) -> PageListing | None:
        page_url = _page_url(index, name)
        try:
            answer = self.client.get_page(page_url, headers={"Accept": ACCEPT})
        except OfflineError:
            raise OfflineError(
                f"`{name}` is not in the cache for index `{index.label}`, and the network is off",
                causes=(f"wanted `{redact_url(page_url)}`",),
                hint="run once without --offline to fill the cache",
            ) from None
        if answer.status in (404, 410) or index.ignores(answer.status):
            root = local_path(index.url)
            if root is not None and not root.is_dir():
                # A typo in a URL reads as a relative path: say so, not "package not found".
                raise NotFoundError(
                    f"index `{index.label}` is not a URL, and no folder `{root}` exists",
                    hint="give a remote index as `https://...`, or a local one as the path of "
                    "a folder that holds a simple index",
                )
            return None
        if not answer.ok:
            raise self._refused(index, page_url, answer.status)
        # A page seen before (the same bytes) is read back parsed: parsing costs more.
        pages = self.cache.bucket("pages")
        page = remembered_page(
            pages,
            answer,
            index.shown,
            lambda r: page_listing(r, index.shown),
            lambda r: _grouped_elsewhere(r, index.shown),
        )
        if index.authenticate == "never":
            self.client.credentials.forbid_exact(
                url for listed in page.urls() for url in (listed, listed + ".metadata")
            )
        return page

    def _refused(self, index: IndexUrl, url: str, status: int) -> KilnError:
        if status not in (401, 403):
            return status_error(url, status)
        sent = self.client.credentials.for_url(url) is not None
        where = (
            f"`{env_var_prefix(index.name)}_USERNAME` and `{env_var_prefix(index.name)}_PASSWORD`"
            if index.name
            else "the index URL (`https://user:password@host/...`)"
        )
        hint = f"put credentials for `{index.label}` in {where}, or in ~/.netrc"
        if sent:
            hint = f"check the credentials for `{index.label}` (from {where} or ~/.netrc)"
        if status == 403:
            hint += "; if the index answers 403 for projects it lacks, add 403 to its "
            hint += "`ignore-error-codes`"
        return NetworkError(
            f"index `{index.label}` refused `{redact_url(url)}`",
            causes=(
                status_text(status),
                "the credentials sent were rejected" if sent else "no credentials were sent",
            ),
            hint=hint,
        )

    def _flat_listing(self, location: str) -> dict[NormalizedName, list[DistFile]]:
        return self._shared.flat.get(
            ("flat", location),
            lambda: with_digests(list_flat(location, self.client), self._downloaded_digest),
        )

    def _downloaded_digest(self, file: DistFile) -> str:
        """The sha256 of a remote file its flat page lists without one, by downloading it.

        A lock cannot be written without the hash; a wheel is kept where the metadata fallback
        and `download` look for it, so the one download serves all three.
        """
        return self._shared.digests.get(file.url, lambda: self._fetch_for_digest(file))

    def _fetch_for_digest(self, file: DistFile) -> str:
        # Named per process and thread: two runs may hash the same file at once.
        url_key = hashlib.sha256(file.url.encode()).hexdigest()[:32]
        scratch = self.cache.tmpdir() / f"digest-{os.getpid()}-{threading.get_ident()}-{url_key}"
        try:
            sha256 = self.client.download(file.url, scratch, hashes=Hashes())
        except OfflineError:
            raise
        except KilnError as exc:
            raise KilnError(
                f"`{file.filename}` from `{redact_url(file.index)}` has no hash, and "
                "downloading it to compute one failed",
                causes=(exc.message, *exc.causes),
                hint="list the file with a `#sha256=...` fragment, or fix the download",
            ) from None
        # Keeping the wheel only saves a download later; failing to keep it loses nothing.
        with contextlib.suppress(OSError):
            if file.is_wheel:
                keep = self.cache.archives / f"{sha256}.whl"
                keep.parent.mkdir(parents=True, exist_ok=True)
                # The download's temporary file was private; a cache entry is not.
                os.chmod(scratch, new_file_mode())
                os.replace(scratch, keep)
        with contextlib.suppress(OSError):
            scratch.unlink()
        return sha256

    # -- prefetch --------------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._shared.pool_lock:
            if self._shared.pool is None:
                self._shared.pool = ThreadPoolExecutor(
                    max_workers=PREFETCH_WORKERS, thread_name_prefix="kiln-metadata"
                )
            return self._shared.pool

    def _warm_page(self, name: NormalizedName) -> None:
        # As for metadata: the resolver meets a failure itself when it asks.
        with contextlib.suppress(Exception):
            self.find(name)

    def _warm(self, file: DistFile) -> None:
        # Failures surface when the resolver asks for this metadata itself.
        with contextlib.suppress(Exception):
            self.metadata(file)


def _page_url(index: IndexUrl, name: NormalizedName) -> str:
    return index.url.rstrip("/") + f"/{name}/"


def _prepare_credentials(index: IndexUrl, client: HttpClient) -> None:
    """Register what the index may send, and fail now when its rules cannot be met."""
    store = client.credentials
    if index.format == "flat" and local_path(index.url) is not None:
        return
    if index.authenticate == "never":
        if userinfo(index.url) is not None:
            raise KilnError(
                f'index `{index.label}` has `authenticate = "never"` but its URL carries '
                "credentials",
                hint='remove the credentials from the URL, or set `authenticate = "auto"`',
            )
        store.forbid(index.url)
        return
    if index.name:
        store.register(index.name, index.url)
    else:
        store.remember(index.url)
    if index.authenticate == "always" and store.for_url(index.url) is None:
        where = (
            f"`{env_var_prefix(index.name)}_USERNAME` and `{env_var_prefix(index.name)}_PASSWORD`"
            if index.name
            else "the index URL"
        )
        raise KilnError(
            f"index `{index.label}` requires credentials, and none were found",
            causes=('the index sets `authenticate = "always"`',),
            hint=f"put them in {where}, or in ~/.netrc",
        )


def _before(file: DistFile, cutoff: datetime) -> bool:
    """Whether a flat listing's file is kept by exclude-newer (no upload time: kept)."""
    return file.upload_time is None or _utc(file.upload_time) < cutoff


def _utc(moment: datetime) -> datetime:
    # Naive times are UTC, as uv reads `exclude-newer = "2024-06-01T00:00:00"`.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _moment(moment: datetime) -> str:
    return _utc(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _probe_memory(index: IndexUrl, client: HttpClient, cache: Cache) -> Path | None:
    """Where what the metadata probe learns about ``index`` is kept; None with --refresh,
    which asks again, and --offline, which asks nothing."""
    if client.refresh or client.offline:
        return None
    key = hashlib.sha256(index.shown.encode("utf-8")).hexdigest()
    return cache.bucket("probes") / key


def _grouped_elsewhere(response: Response, shown: str) -> bytes | None:
    """A large JSON page's stored form made by a helper process (`page_worker`)."""
    from kiln.index.page_worker import LARGE, page_helpers

    if len(response.body) < LARGE or not is_json_page(response.headers.get("content-type", "")):
        return None
    return page_helpers().stored_form(response.url, shown, response.body)
