"""Hashing a file while it is written, and the check against what the index promised."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from kiln.core.errors import HashMismatchError, NetworkError
from kiln.core.hashes import Hashes
from kiln.net.redact import redact_url

CHUNK = 1 << 16
MISMATCH_HINT = (
    "the index served a different file than it listed; run with --refresh or report it to the index"
)


class Hasher:
    """sha256 (the cache key) and the strongest digest the index gave, in one pass."""

    def __init__(self, hashes: Hashes) -> None:
        self._sha256 = hashlib.sha256()
        strongest = hashes.strongest()
        self._algo = None if strongest is None else strongest[0]
        self._other = (
            hashlib.new(self._algo) if self._algo not in (None, "sha256") and self._algo else None
        )

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        if self._other is not None:
            self._other.update(chunk)

    def result(self) -> tuple[str, str | None]:
        sha256 = self._sha256.hexdigest()
        if self._algo is None:
            return sha256, None
        return sha256, sha256 if self._other is None else self._other.hexdigest()


def copy_local(
    url: str,
    source: Path,
    out: IO[bytes],
    hashes: Hashes,
    progress: Callable[[int], None] | None,
) -> tuple[str, str | None]:
    hasher = Hasher(hashes)
    try:
        with source.open("rb") as f:
            while chunk := f.read(CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                if progress is not None:
                    progress(len(chunk))
    except FileNotFoundError:
        raise NetworkError(
            f"failed to read `{redact_url(url)}`",
            causes=("no such file",),
            hint="check that the path exists",
        ) from None
    except OSError as error:
        raise NetworkError(
            f"failed to read `{redact_url(url)}`", causes=(error.strerror or str(error),)
        ) from None
    return hasher.result()


def verify(name: str, url: str, hashes: Hashes, checked: str | None) -> None:
    """Raise `HashMismatchError` when ``checked`` (of the strongest algorithm) is not listed."""
    strongest = hashes.strongest()
    if strongest is None or checked is None or strongest[1] == checked:
        return
    raise HashMismatchError(
        f"hash mismatch for `{name}`",
        causes=(
            f"expected {strongest[0]}:{strongest[1]}",
            f"got {strongest[0]}:{checked}",
            f"from `{redact_url(url)}`",
        ),
        hint=MISMATCH_HINT,
    )
