"""Fetch and unpack every wheel an install needs, before the environment is touched.

Downloads run in parallel into the cache's scratch space; each verified wheel is unpacked
into the cache and its archive deleted. The first failure stops the rest, and since nothing
has been installed yet, the environment is exactly as it was.
"""

from __future__ import annotations

import heapq
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.errors import InstallError
from kiln.core.hashes import file_sha256
from kiln.core.protocols import Downloader, Reporter
from kiln.install.plan import PlannedDist
from kiln.install.wheel_cache import cached_wheel, unpack_wheel

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kiln.core.build import WheelBuilder


class _Cancelled(Exception):
    """Raised inside a download's progress callback to stop it after another one failed."""


def prepare(
    dists: Sequence[PlannedDist],
    downloader: Downloader,
    cache: Cache,
    reporter: Reporter,
    *,
    jobs: int = 8,
    builder: WheelBuilder | None = None,
) -> dict[NormalizedName, Path]:
    """The unpacked cache folder of every one of ``dists``, fetching those not yet cached;
    an sdist is fetched, verified and built into a wheel by ``builder``."""
    ready: dict[NormalizedName, Path] = {}
    remote: list[PlannedDist] = []
    for planned in dists:
        folder = _already_cached(planned, cache)
        if folder is not None:
            ready[planned.candidate.name] = folder
        elif planned.candidate.name not in {p.candidate.name for p in remote}:
            remote.append(planned)
    for planned in remote:
        if not planned.candidate.file.is_wheel and builder is None:
            raise InstallError(
                f"`{planned.candidate.file.filename}` is not a wheel",
                hint="what a build environment installs must be wheels; pick a build "
                "requirement version that has a wheel for this environment",
            )
    if not remote:
        return ready

    # Imported only when something is fetched: a sync from the cache makes no pool.
    from concurrent.futures import ThreadPoolExecutor, as_completed

    cancel = threading.Event()
    # Downloads wait on the network; unpacking is inflating and writing under the GIL, so
    # it gets one worker per core: eight threads inflating on two cores spent their time
    # handing the GIL to each other (hundreds of thousands of futex calls in a cold sync).
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(jobs, len(remote))), thread_name_prefix="fetch"
    )
    unpacker = ThreadPoolExecutor(
        max_workers=max(1, min(os.cpu_count() or 1, len(remote))), thread_name_prefix="unpack"
    )
    scratches: list[Path] = []
    downloads: dict[Future[tuple[Path, Path, str]], PlannedDist] = {}
    unpacks: list[Future[tuple[NormalizedName, Path]]] = []
    # The largest wheels are fetched first and, among those fetched, unpacked first: a
    # cold sync's last wheel to unpack was the largest, on one core while the other idled.
    waiting = _Largest()

    def unpack_largest() -> tuple[NormalizedName, Path]:
        planned, scratch, dest, sha256 = waiting.pop()
        return planned.candidate.name, _unpack(planned, scratch, dest, sha256, cache, builder)

    try:
        for planned in sorted(remote, key=_size, reverse=True):
            scratch = Path(tempfile.mkdtemp(prefix="fetch-", dir=cache.tmpdir()))
            scratches.append(scratch)
            future = pool.submit(_download, planned, downloader, scratch, reporter, cancel)
            downloads[future] = planned
        for done in as_completed(downloads):
            planned = downloads[done]
            waiting.push(planned, *done.result())
            unpacks.append(unpacker.submit(unpack_largest))
        for finished in as_completed(unpacks):
            name, folder = finished.result()
            ready[name] = folder
    except BaseException:
        cancel.set()
        for fetching in downloads:
            fetching.cancel()
        for unpacking in unpacks:
            unpacking.cancel()
        raise
    finally:
        # Wait for in-flight work to stop, so none writes after prepare returns.
        pool.shutdown(wait=True, cancel_futures=True)
        unpacker.shutdown(wait=True, cancel_futures=True)
        for scratch in scratches:
            shutil.rmtree(scratch, ignore_errors=True)
    return ready


def _size(planned: PlannedDist) -> int:
    return planned.candidate.file.size or 0


class _Largest:
    """Fetched wheels waiting to be unpacked, handed out largest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heap: list[tuple[int, int, tuple[PlannedDist, Path, Path, str]]] = []
        self._order = itertools.count()  # equal sizes: first fetched, first unpacked

    def push(self, planned: PlannedDist, scratch: Path, dest: Path, sha256: str) -> None:
        with self._lock:
            item = (planned, scratch, dest, sha256)
            heapq.heappush(self._heap, (-_size(planned), next(self._order), item))

    def pop(self) -> tuple[PlannedDist, Path, Path, str]:
        # One pop per push, each after it: the heap is never empty here.
        with self._lock:
            return heapq.heappop(self._heap)[2]


def _already_cached(planned: PlannedDist, cache: Cache) -> Path | None:
    if planned.cached is not None and planned.cached.is_dir():
        return planned.cached
    # Another kiln process may have fetched it since the plan was made.
    sha256 = planned.candidate.file.hashes.get("sha256")
    return cached_wheel(sha256, cache) if sha256 else None


def _download(
    planned: PlannedDist,
    downloader: Downloader,
    scratch: Path,
    reporter: Reporter,
    cancel: threading.Event,
) -> tuple[Path, Path, str]:
    """The file, downloaded into ``scratch`` and verified: (scratch, file, its sha256)."""
    if cancel.is_set():
        raise _Cancelled
    candidate = planned.candidate
    file = candidate.file
    key = str(candidate.name)
    progress = reporter.download_started(key, f"{candidate.name}=={candidate.version}", file.size)

    def advance(advanced_bytes: int) -> None:
        if cancel.is_set():
            raise _Cancelled
        progress(advanced_bytes)

    try:
        # The wheel keeps its own name: unpacking checks it against the metadata inside.
        dest = scratch / (os.path.basename(file.filename) or "download.whl")
        sha256 = downloader.download(file, dest, advance)
    finally:
        reporter.download_finished(key)
    if cancel.is_set():
        raise _Cancelled
    return scratch, dest, sha256


def _unpack(
    planned: PlannedDist,
    scratch: Path,
    dest: Path,
    sha256: str,
    cache: Cache,
    builder: WheelBuilder | None,
) -> Path:
    candidate = planned.candidate
    try:
        if not candidate.file.is_wheel and builder is not None:
            dest = builder.build_wheel(dest, f"{candidate.name} {candidate.version}")
            sha256 = file_sha256(dest)
        return cached_wheel(sha256, cache) or unpack_wheel(dest, sha256, cache)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
