"""Raw deflate and CRC-32 for unpacking wheels: ISA-L's where the `isal` wheel is installed,
zlib's where it is not.

Inflating is most of a cold sync's user time. ISA-L inflated the members of five large
wheels (numpy, scipy, pandas, scikit-learn, matplotlib: 277 MB) 2.3 times as fast as the
zlib 1.2.13 CPython links on the development machine, and its CRC-32 is six times as fast;
both release the GIL, as zlib does. `isal` publishes wheels for x86_64 and arm64 only, so
elsewhere zlib does the same work: deflate is a format, and what either one produces is
checked against the member's size and CRC-32 or RECORD's sha256 all the same.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import cache
from typing import Protocol, cast


class Inflater(Protocol):
    """What unpacking uses of a raw-deflate decompressor (zlib's `Decompress` and ISA-L's)."""

    @property
    def eof(self) -> bool: ...

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...


@cache
def _implementation() -> tuple[
    Callable[[], Inflater], Callable[[bytes, int], int], tuple[type[Exception], ...]
]:
    # Imported on first use: commands that unpack nothing do not pay for it.
    try:
        from isal import isal_zlib
    except ImportError:
        return (lambda: zlib.decompressobj(-15)), zlib.crc32, (zlib.error,)
    # The stubs declare `error` as an instance; it is the exception class.
    isal_error = cast("type[Exception]", isal_zlib.error)
    return (lambda: isal_zlib.decompressobj(-15)), isal_zlib.crc32, (zlib.error, isal_error)


def raw_inflater() -> Inflater:
    """A decompressor for a zip member's raw deflate stream (no zlib header)."""
    return _implementation()[0]()


def crc32(data: bytes, value: int = 0) -> int:
    return _implementation()[1](data, value)


def inflate_errors() -> tuple[type[Exception], ...]:
    """What a corrupt deflate stream raises, from either implementation."""
    return _implementation()[2]
