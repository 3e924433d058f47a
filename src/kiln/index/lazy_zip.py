"""A remote zip read through HTTP range requests: only the bytes `zipfile` asks for are fetched.

A wheel's METADATA sits in its last few kilobytes next to the central directory, so one
suffix request usually answers everything. A large central directory (torch: thousands of
files) costs one more round trip: its last entries, in the suffix already, are a wheel's
`.dist-info` files, so the METADATA member is asked for together with the rest of it. A
wheel that writes its `.dist-info` first (numpy) names none of them in the suffix; its
first bytes are asked for with the directory's rest instead.
"""

from __future__ import annotations

import bisect
import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from kiln.core.together import together

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

    def ensure_all(self, spans: Iterable[tuple[int, int]]) -> None:
        """`ensure` for several spans [start, end) at once: each missing gap is asked for on
        its own thread, so that they cost one round trip rather than one each."""
        gaps = [gap for start, end in spans for gap in self._gaps(start, min(end, self.size))]
        fetched = together([functools.partial(self._fetch, start, end - 1) for start, end in gaps])
        for (start, _), data in zip(gaps, fetched, strict=True):
            self._insert(start, data)

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


def read_member(
    remote: LazyRemoteFile, name_filter: Callable[[list[str]], str], suffix: str = ""
) -> bytes:
    """Open ``remote`` as a zip and read the member ``name_filter`` picks from its names
    (those that end with ``suffix``).

    The member's bytes, local header included, are fetched in one request before they are
    read. The central directory is walked directly: `zipfile` makes an object for every
    entry, 0.2 s for a torch wheel's 18,000, and a lock reads several torch wheels.
    """
    direct = _read_member_directly(remote, name_filter, suffix.encode("ascii"))
    if direct is not None:
        return direct
    with zipfile.ZipFile(remote) as archive:
        infos = archive.infolist()
        name = name_filter([i.filename for i in infos if i.filename.endswith(suffix)])
        info = archive.getinfo(name)
        following = sorted(i.header_offset for i in infos if i.header_offset > info.header_offset)
        directory_start = getattr(archive, "start_dir", remote.size)
        end = following[0] if following else directory_start
        remote.ensure(info.header_offset, max(end, info.header_offset + 30))
        try:
            return archive.read(name)
        except zlib.error:
            raise zipfile.BadZipFile(f"Bad deflate data for file {name!r}") from None


_END = struct.Struct("<4sHHHHLLH")  # end of central directory record
_ENTRY = struct.Struct("<4sHHHHHHLLLHHHHHLL")  # central directory file header
_LOCAL = struct.Struct("<4sHHHHHLLLHH")  # local file header
# How far from the end the end record is looked for: a wheel has no archive comment, and
# the suffix request that opened the file holds this much and more.
_END_SEARCH = 4096
# Room past a member's name and data for its local extra field and data descriptor, when
# its bytes are asked for before its local header is read.
_MEMBER_SLACK = 1024
# The longest name `reads_ahead` looks back over; a wheel's `.dist-info` names are short.
_MAX_NAME = 512
# The most members `reads_ahead` asks for on a guess.
_MAX_GUESSES = 2
# How much of a zip's start `reads_ahead` asks for when the tail names no `.dist-info`
# member: those wheels (numpy's, scipy's, torchvision's) write theirs first, and numpy's
# METADATA ends 44 KB in, after its licence files.
_HEAD_GUESS = 64 * 1024


def _directory(tail: bytes, tail_start: int) -> tuple[int, int, int] | None:
    """(entries, offset, size) of the central directory of a plain zip whose last bytes,
    from ``tail_start``, are ``tail``; None when it is not one (several disks, zip64, a
    comment that is not one, data before the zip)."""
    at = tail.rfind(b"PK\x05\x06", max(0, len(tail) - _END_SEARCH))
    if at < 0 or len(tail) - at < _END.size:
        return None
    _sig, disk, cd_disk, _here, count, cd_size, cd_offset, comment = _END.unpack_from(tail, at)
    if (
        disk
        or cd_disk
        or at + _END.size + comment != len(tail)
        or count == 0xFFFF
        or 0xFFFFFFFF in (cd_size, cd_offset)
        or cd_offset + cd_size != tail_start + at
    ):
        return None
    return count, cd_offset, cd_size


def reads_ahead(tail: bytes, tail_start: int, suffix: bytes) -> list[tuple[int, int]]:
    """The spans [start, end) reading a top-level member named ``…suffix`` will want beyond
    ``tail``, the zip's last bytes from ``tail_start``: the rest of the central directory,
    and each such member whose directory entry is in the tail, or, when none is, the zip's
    first bytes, where a wheel that writes its `.dist-info` first keeps it. Empty when the
    tail holds the whole directory, or the zip is not a plain one; a guess, which
    `read_member` checks against the whole directory before it uses any byte of it."""
    found = _directory(tail, tail_start)
    if found is None or found[1] >= tail_start:
        return []
    _, cd_offset, _ = found
    spans = [(cd_offset, tail_start)]
    name_end = tail.find(suffix)
    while name_end >= 0:
        name_end += len(suffix)
        entry = _entry_ending_at(tail, name_end)
        if entry is not None:
            name_length, size, offset = entry[10], entry[8], entry[16]
            name = tail[name_end - name_length : name_end]
            if name.count(b"/") == 1 and offset < cd_offset and size != 0xFFFFFFFF:
                end = offset + _LOCAL.size + name_length + size + _MEMBER_SLACK
                spans.append((offset, min(end, cd_offset)))
        name_end = tail.find(suffix, name_end)
    if len(spans) == 1:
        spans.append((0, min(_HEAD_GUESS, cd_offset)))
    # A wheel has one such member; a zip naming many is read the plain way, not guessed at
    # with a request (and a thread) for each.
    return spans if len(spans) <= 1 + _MAX_GUESSES else spans[:1]


def _entry_ending_at(tail: bytes, name_end: int) -> tuple[Any, ...] | None:
    """The fields of the central directory entry in ``tail`` whose name ends at ``name_end``."""
    low = max(0, name_end - _ENTRY.size - _MAX_NAME)
    at = tail.rfind(b"PK\x01\x02", low, name_end)
    while at >= 0:
        if at + _ENTRY.size <= name_end:
            fields = _ENTRY.unpack_from(tail, at)
            if at + _ENTRY.size + fields[10] == name_end:
                return fields
        at = tail.rfind(b"PK\x01\x02", low, at)
    return None


def _read_member_directly(
    remote: LazyRemoteFile, name_filter: Callable[[list[str]], str], suffix: bytes = b""
) -> bytes | None:
    """The member, read from a plain zip (one disk, no zip64, stored or deflated, not
    encrypted); None for any other zip, which `zipfile` then reads. A member that
    does not match its directory entry is a `zipfile.BadZipFile`, as `zipfile` says."""
    tail_start = max(0, remote.size - _END_SEARCH)
    found = _directory(remote.span(tail_start, remote.size), tail_start)
    if found is None:
        return None
    count, cd_offset, cd_size = found
    directory = remote.span(cd_offset, cd_offset + cd_size)
    # A torch wheel lists 11,000-18,000 members: the walk keeps only every member's offset,
    # and decodes only the names that end as the one wanted can (a name is bytes until then).
    names: list[str] = []
    entries: list[tuple[bytes, int, int, int, int, int, int]] = []
    offsets: list[int] = []
    unpack, size, length = _ENTRY.unpack_from, _ENTRY.size, len(directory)
    pos = 0
    for _ in range(count):
        if pos + size > length:
            return None
        fields = unpack(directory, pos)
        if fields[0] != b"PK\x01\x02":
            return None
        start = pos + size
        end = start + fields[10]
        offsets.append(fields[16])
        if directory.endswith(suffix, start, end):
            raw = directory[start:end]
            flags = fields[3]
            names.append(raw.decode("utf-8" if flags & 0x800 else "cp437"))
            entries.append((raw, flags, fields[4], fields[7], fields[8], fields[9], fields[16]))
        pos = end + fields[11] + fields[12]
    if pos != length:
        return None
    name = name_filter(names)
    raw, flags, method, crc, csize, usize, offset = entries[names.index(name)]
    if flags & 0x1 or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    following = [o for o in offsets if o > offset]
    end = min(following) if following else cd_offset
    remote.ensure(offset, max(end, offset + _LOCAL.size))
    header = remote.span(offset, offset + _LOCAL.size)
    if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"Bad magic number for file header of {name!r}")
    local_name_len, local_extra_len = _LOCAL.unpack(header)[9:]
    if remote.span(offset + _LOCAL.size, offset + _LOCAL.size + local_name_len) != raw:
        raise zipfile.BadZipFile(f"File name in directory {name!r} and header differ")
    start = offset + _LOCAL.size + local_name_len + local_extra_len
    if start + csize > cd_offset:
        raise zipfile.BadZipFile(f"Truncated data for {name!r}")
    data = remote.span(start, start + csize)
    if method == zipfile.ZIP_DEFLATED:
        try:
            data = zlib.decompressobj(-15).decompress(data, usize + 1)
        except zlib.error:
            raise zipfile.BadZipFile(f"Bad deflate data for file {name!r}") from None
    if len(data) != usize or zlib.crc32(data) != crc:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {name!r}")
    return data
