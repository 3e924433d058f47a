"""File hashes as indexes publish them and as kiln checks them."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kiln.core.records import record

# `hashlib.algorithms_guaranteed`, without importing hashlib: it loads OpenSSL, which cost a
# sync that switches extras 1.5-3 ms before it hashed a single byte (checked against hashlib
# in the tests).
GUARANTEED = frozenset(
    {
        "blake2b",
        "blake2s",
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha3_224",
        "sha3_256",
        "sha3_384",
        "sha3_512",
        "sha512",
        "shake_128",
        "shake_256",
    }
)

# Strongest first: when an index offers several, we verify the first we know.
_PREFERRED = ("sha512", "sha384", "sha256")


@record
class Hashes:
    """Known digests of one file, as (algorithm, lowercase hex) pairs sorted by algorithm."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, str] | Iterable[tuple[str, str]]) -> Hashes:
        pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
        usable = {algo.lower(): digest.lower() for algo, digest in pairs if digest}
        return cls(tuple(sorted(usable.items())))

    @classmethod
    def from_fragment(cls, fragment: str) -> Hashes:
        """Parse a URL fragment like ``sha256=abc...`` (PEP 503); anything else means no hash."""
        algo, sep, digest = fragment.partition("=")
        if not sep or algo.lower() not in GUARANTEED:
            return cls()
        return cls.of({algo: digest})

    def __bool__(self) -> bool:
        return bool(self.items)

    def get(self, algo: str) -> str | None:
        for name, digest in self.items:
            if name == algo:
                return digest
        return None

    def strongest(self) -> tuple[str, str] | None:
        """The digest to verify against: the strongest algorithm hashlib guarantees."""
        for algo in _PREFERRED:
            digest = self.get(algo)
            if digest is not None:
                return algo, digest
        for algo, digest in self.items:
            if algo in GUARANTEED:
                return algo, digest
        return None

    def matches(self, algo: str, digest: str) -> bool:
        expected = self.get(algo)
        return expected is not None and expected == digest.lower()


def small_sha256(data: bytes) -> bytes:
    """The sha256 of a few bytes held in memory (a generated script, an `INSTALLER` file).

    Python's own implementation, which loads nothing: OpenSSL's (`hashlib`) is faster on
    large inputs, so files are hashed with it (`file_sha256`).
    """
    digest: bytes = _builtin_sha256()(data).digest()
    return digest


@functools.cache
def _builtin_sha256() -> Any:
    # A build may lack it: then OpenSSL's after all.
    try:
        return __import__("_sha2" if sys.version_info >= (3, 12) else "_sha256").sha256
    except ImportError:
        pass
    import hashlib

    return hashlib.sha256


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks (wheels reach gigabytes)."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
