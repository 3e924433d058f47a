"""Fetch and unpack every wheel an install needs, before the environment is touched.

Downloads run in parallel into the cache's scratch space; each verified wheel is unpacked
into the cache and its archive deleted. The first failure stops the rest, and since nothing
has been installed yet, the environment is exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from packaging.utils import NormalizedName

from kiln.cache.layout import Cache
from kiln.core.build import WheelBuilder
from kiln.core.errors import InstallError
from kiln.core.hashes import file_sha256
from kiln.core.protocols import Downloader, Reporter
from kiln.install.plan import PlannedDist
from kiln.install.wheel_cache import cached_wheel, unpack_wheel


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

    cancel = threading.Event()
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(jobs, len(remote))), thread_name_prefix="fetch"
    )
    futures: dict[Future[Path], PlannedDist] = {}
    try:
        for planned in remote:
            future = pool.submit(_fetch, planned, downloader, cache, reporter, cancel, builder)
            futures[future] = planned
        for future in as_completed(futures):
            ready[futures[future].candidate.name] = future.result()
    except BaseException:
        cancel.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        # Wait for in-flight downloads to stop, so none writes after prepare returns.
        pool.shutdown(wait=True, cancel_futures=True)
    return ready


def _already_cached(planned: PlannedDist, cache: Cache) -> Path | None:
    if planned.cached is not None and planned.cached.is_dir():
        return planned.cached
    # Another kiln process may have fetched it since the plan was made.
    sha256 = planned.candidate.file.hashes.get("sha256")
    return cached_wheel(sha256, cache) if sha256 else None


def _fetch(
    planned: PlannedDist,
    downloader: Downloader,
    cache: Cache,
    reporter: Reporter,
    cancel: threading.Event,
    builder: WheelBuilder | None = None,
) -> Path:
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

    scratch = Path(tempfile.mkdtemp(prefix="fetch-", dir=cache.tmpdir()))
    try:
        # The wheel keeps its own name: unpacking checks it against the metadata inside.
        dest = scratch / (os.path.basename(file.filename) or "download.whl")
        sha256 = downloader.download(file, dest, advance)
        if cancel.is_set():
            raise _Cancelled
        if not file.is_wheel and builder is not None:
            dest = builder.build_wheel(dest, f"{candidate.name} {candidate.version}")
            sha256 = file_sha256(dest)
        return cached_wheel(sha256, cache) or unpack_wheel(dest, sha256, cache)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        reporter.download_finished(key)
