"""A remote zip read through HTTP range requests: only the bytes `zipfile` asks for are fetched.

A wheel's METADATA sits in its last few kilobytes next to the central directory, so one
suffix request usually answers everything; a large central directory (torch: thousands of
files) costs one more request, and the METADATA member one more at most.
"""

from __future__ import annotations

import bisect
import io
import zipfile
from collections.abc import Callable

# Fetches bytes [start, end] inclusive, or raises `RangesUnsupported`.
Fetch = Callable[[int, int], bytes]


class RangesUnsupported(Exception):
    """The server stopped answering with ranges; read the whole file instead."""


class LazyRemoteFile(io.RawIOBase):
    """A seekable, read-only view of ``size`` remote bytes, fetched on first read."""

    def __init__(self, size: int, fetch: Fetch, known: dict[int, bytes] | None = None) -> None:
        super().__init__()
        self.size = size
        self._fetch = fetch
        self._pos = 0
        # Disjoint fetched spans: parallel lists of start offsets and their bytes.
        self._starts: list[int] = []
        self._chunks: list[bytes] = []
        for start, data in (known or {}).items():
            self._insert(start, data)

    # -- io.RawIOBase ------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        end = min(self._pos + len(buffer), self.size)
        if end <= self._pos:
            return 0
        data = self.span(self._pos, end)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    # -- ranges ------------------------------------------------------------------------

    def ensure(self, start: int, end: int) -> None:
        """Fetch whatever of bytes [start, end) is not here yet, one request per gap."""
        end = min(end, self.size)
        for gap_start, gap_end in self._gaps(start, end):
            self._insert(gap_start, self._fetch(gap_start, gap_end - 1))

    def span(self, start: int, end: int) -> bytes:
        self.ensure(start, end)
        i = bisect.bisect_right(self._starts, start) - 1
        chunk_start, chunk = self._starts[i], self._chunks[i]
        return chunk[start - chunk_start : end - chunk_start]

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        gaps: list[tuple[int, int]] = []
        pos = start
        for chunk_start, chunk in zip(self._starts, self._chunks, strict=True):
            chunk_end = chunk_start + len(chunk)
            if chunk_end <= pos:
                continue
            if chunk_start >= end:
                break
            if chunk_start > pos:
                gaps.append((pos, chunk_start))
            pos = max(pos, chunk_end)
            if pos >= end:
                break
        if pos < end:
            gaps.append((pos, end))
        return gaps

    def _insert(self, start: int, data: bytes) -> None:
        """Add a span and merge it with every span it touches, keeping one span per run."""
        merged_start, merged = start, bytearray(data)
        keep_starts: list[int] = []
        keep_chunks: list[bytes] = []
        for chunk_start, chunk in zip(self._starts, self._chunks, strict=True):
            chunk_end = chunk_start + len(chunk)
            if chunk_end < merged_start or chunk_start > merged_start + len(merged):
                keep_starts.append(chunk_start)
                keep_chunks.append(chunk)
                continue
            new_start = min(merged_start, chunk_start)
            new_end = max(merged_start + len(merged), chunk_end)
            combined = bytearray(new_end - new_start)
            combined[chunk_start - new_start : chunk_end - new_start] = chunk
            combined[merged_start - new_start : merged_start - new_start + len(merged)] = merged
            merged_start, merged = new_start, combined
        index = bisect.bisect_left(keep_starts, merged_start)
        keep_starts.insert(index, merged_start)
        keep_chunks.insert(index, bytes(merged))
        self._starts, self._chunks = keep_starts, keep_chunks


def read_member(remote: LazyRemoteFile, name_filter: Callable[[list[str]], str]) -> bytes:
    """Open ``remote`` as a zip and read the member ``name_filter`` picks from its names.

    The member's bytes, local header included, are fetched in one request before
    `zipfile` reads them in small pieces.
    """
    with zipfile.ZipFile(remote) as archive:
        infos = archive.infolist()
        name = name_filter([info.filename for info in infos])
        info = archive.getinfo(name)
        following = sorted(i.header_offset for i in infos if i.header_offset > info.header_offset)
        directory_start = getattr(archive, "start_dir", remote.size)
        end = following[0] if following else directory_start
        remote.ensure(info.header_offset, max(end, info.header_offset + 30))
        return archive.read(name)
