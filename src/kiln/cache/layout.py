"""Where things live in the global cache.

The cache is versioned per bucket so a layout change never reads old entries as new ones.
Entries are written atomically (see `atomic`) and trusted only once complete: a partial
download or unpack never appears under its final name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kiln.core.records import record

# Beyond the largest genuine wheels (CUDA builds unpack to a few GiB), short of a full disk.
DEFAULT_WHEEL_SIZE_LIMIT = 16 << 30
_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_cache_dir() -> Path:
    env = os.environ.get("KILN_CACHE_DIR")
    if env:
        return Path(env)
    # platformdirs costs an import on every start; only pay it when no override is set.
    import platformdirs

    return Path(platformdirs.user_cache_dir("kiln", appauthor=False))


@record
class Cache:
    """The cache's root folder and the buckets under it."""

    root: Path
    # --no-cache: a throwaway root the command deletes at exit; writes still go somewhere so
    # the install path (unpack then link) stays one code path.
    temporary: bool = False
    # The most bytes one wheel may unpack to (KILN_MAX_WHEEL_UNPACKED_SIZE); 0: no limit.
    wheel_size_limit: int = DEFAULT_WHEEL_SIZE_LIMIT

    def bucket(self, name: str) -> Path:
        """A versioned top-level folder: ``wheels-v1``, ``http-v1``, ``interpreters-v1``."""
        path = self.root / f"{name}-v1"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def wheels(self) -> Path:
        """Unpacked wheels, one folder per wheel named by its sha256."""
        return self.bucket("wheels")

    def unpacked_wheel(self, sha256: str) -> Path | None:
        """The unpacked folder of the wheel with this sha256, if the cache has it."""
        if not _SHA256.fullmatch(sha256.lower()):
            return None
        path = self.wheels / sha256.lower()
        return path if path.is_dir() else None

    @property
    def archives(self) -> Path:
        """Downloaded wheel files awaiting unpack, keyed by sha256 (removed after unpack)."""
        return self.bucket("archives")

    @property
    def http(self) -> Path:
        return self.bucket("http")

    @property
    def metadata(self) -> Path:
        return self.bucket("metadata")

    @property
    def interpreters(self) -> Path:
        return self.bucket("interpreters")

    def tmpdir(self) -> Path:
        """Scratch space on the cache's file system, so final renames are atomic."""
        return self.bucket("tmp")
