"""Wheels unpacked once into the cache, in folders named by the wheel's sha256.

An unpacked folder holds the wheel's files as they are, except its ``RECORD``: that is
rewritten to list every file with a sha256 and size that were checked while unpacking, so an
install can take its hashes from there instead of reading every file again.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zipfile
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)

from kiln.cache.atomic import staged_dir
from kiln.cache.layout import Cache
from kiln.cache.locks import file_lock
from kiln.core.errors import InstallError
from kiln.core.headers import first_header
from kiln.core.kill_points import reached
from kiln.core.records import record
from kiln.install.inflate import crc32, inflate_errors, raw_inflater
from kiln.install.record import RecordEntry, encode_digest, format_record, parse_record
from kiln.install.wheel_checks import (
    check_member_link,
    check_metadata_matches,
    check_unpacked_size,
    oversized_member,
)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20
# Signatures of RECORD itself; they cannot list their own hash.
_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")


def cached_wheel(sha256: str, cache: Cache) -> Path | None:
    """The unpacked folder of the wheel with this sha256, if the cache has it."""
    return cache.unpacked_wheel(sha256)


def unpack_wheel(wheel: Path, sha256: str, cache: Cache) -> Path:
    """Unpack ``wheel`` (whose content hashes to ``sha256``) into the cache, once.

    Concurrent kiln processes unpacking the same wheel wait for each other on a lock; a
    reader never sees a half-unpacked folder because it appears under its name in one rename.
    """
    key = sha256.lower()
    if not _SHA256.fullmatch(key):
        raise InstallError(f"`{sha256}` is not a sha256 digest (unpacking `{wheel.name}`)")
    final = cache.wheels / key
    if final.is_dir():
        return final
    with file_lock(cache.wheels / f"{key}.lock"):
        if final.is_dir():
            return final
        with staged_dir(final, cache.tmpdir()) as staging:
            try:
                _extract(wheel, staging, cache.wheel_size_limit)
            except _corrupt() as exc:
                # Whichever member it is found in (METADATA is read first, to check it).
                raise InstallError(
                    f"`{wheel.name}` is corrupt",
                    causes=[str(exc)],
                    hint="delete the file and download it again",
                ) from exc
            reached("unpack-extracted")
        reached("unpack-renamed")
    return final


@record
class _Layout:
    """The names of a wheel's `.dist-info` and `.data` folders."""

    dist_info: str  # e.g. "foo-1.0.dist-info"
    data: str  # e.g. "foo-1.0.data"


def _extract(wheel: Path, dest: Path, size_limit: int = 0) -> None:
    with _open(wheel) as archive:
        infos = archive.infolist()
        names = [_safe_member(wheel, info.filename) for info in infos]
        check_unpacked_size(wheel, infos, size_limit)
        layout = _layout(wheel, names)
        check_metadata_matches(wheel, archive, layout.dist_info)
        record = _wheel_record(wheel, archive, layout)
        files: list[tuple[zipfile.ZipInfo, str]] = []
        folders: set[str] = set()
        for info, posix in zip(infos, names, strict=True):
            if info.is_dir():
                folders.add(posix)
            else:
                files.append((info, posix))
                folders.add(posix.rpartition("/")[0])
        for folder in sorted(folders):
            os.makedirs(os.path.join(dest, folder), exist_ok=True)
        written = _extract_files(wheel, archive, files, str(dest), layout, record)
    record_path = f"{layout.dist_info}/RECORD"
    entries = [e for e in written if e.path != record_path]
    entries.append(RecordEntry(record_path))
    record_file = dest / layout.dist_info / "RECORD"
    record_file.unlink(missing_ok=True)
    record_file.write_bytes(format_record(entries))


def _open(wheel: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InstallError(
            f"`{wheel.name}` is not a readable wheel",
            causes=[str(exc)],
            hint="the file may be truncated; delete it and download it again",
        ) from exc


def _corrupt() -> tuple[type[Exception], ...]:
    """What reading a damaged archive raises, whichever inflater reads it."""
    return (zipfile.BadZipFile, EOFError, *inflate_errors())


def _extract_files(
    wheel: Path,
    archive: zipfile.ZipFile,
    files: list[tuple[zipfile.ZipInfo, str]],
    dest: str,
    layout: _Layout,
    record: dict[str, RecordEntry],
) -> list[RecordEntry]:
    scripts = f"{layout.data}/scripts/"
    written: list[RecordEntry] = []
    try:
        for info, posix in files:
            check_member_link(wheel, info, posix, archive)
            reached("unpack-member")
            target = os.path.join(dest, posix)
            executable = bool((info.external_attr >> 16) & 0o111) or posix.startswith(scripts)
            expected = record.get(posix)
            # RECORD's sha256, checked below, says more than the zip's CRC-32 does.
            crc = expected is None or not expected.hash.startswith("sha256=")
            entry = _write_member(wheel, archive, info, posix, target, executable, crc)
            if expected is not None:
                _check(wheel, posix, target, entry, expected)
            written.append(entry)
    except _corrupt() as exc:
        raise InstallError(
            f"`{wheel.name}` is corrupt",
            causes=[str(exc)],
            hint="delete the file and download it again",
        ) from exc
    return written


def _safe_member(wheel: Path, member: str) -> str:
    """The member's path inside the wheel, ``/``-separated, or InstallError when it would
    land outside it. A string, not a `PurePosixPath`: made for each of a wheel's thousands
    of members, the path objects were 6 % of unpacking's CPU time."""
    parts = member.replace("\\", "/").split("/")
    absolute = member.startswith(("/", "\\")) or (len(member) > 1 and member[1] == ":")
    if absolute or ".." in parts:
        raise InstallError(
            f"`{wheel.name}` contains the unsafe path `{member}`",
            hint="a wheel may only hold paths inside itself; report this to the package's "
            "maintainers and do not install it",
        )
    kept = [p for p in parts if p not in ("", ".")]
    if not kept:
        raise InstallError(f"`{wheel.name}` contains an empty member name `{member}`")
    return "/".join(kept)


def _layout(wheel: Path, names: list[str]) -> _Layout:
    top_level = {n.partition("/")[0] for n in names if "/" in n}
    dist_infos = sorted(t for t in top_level if t.endswith(".dist-info"))
    if len(dist_infos) != 1:
        found = ", ".join(f"`{d}`" for d in dist_infos) or "none"
        raise InstallError(
            f"`{wheel.name}` must contain exactly one `.dist-info` folder",
            causes=[f"found {found}"],
            hint="the wheel is malformed; report this to the package's maintainers",
        )
    dist_info = dist_infos[0]
    present = set(names)
    for required in ("WHEEL", "METADATA"):
        if f"{dist_info}/{required}" not in present:
            raise InstallError(
                f"`{wheel.name}` has no `{dist_info}/{required}`",
                hint="the wheel is malformed; report this to the package's maintainers",
            )
    stem = dist_info[: -len(".dist-info")]
    name, sep, _version = stem.partition("-")
    if not sep:
        raise InstallError(f"`{wheel.name}` has a misnamed metadata folder `{dist_info}`")
    try:
        expected = parse_wheel_filename(wheel.name)[0]
    except InvalidWheelFilename:
        expected = None  # not named like a wheel (a temporary name): nothing to compare
    if expected is not None and canonicalize_name(name) != expected:
        raise InstallError(
            f"`{wheel.name}` holds the metadata of another project (`{dist_info}`)",
            hint="the wheel is malformed; report this to the package's maintainers",
        )
    return _Layout(dist_info=dist_info, data=f"{stem}.data")


def _wheel_record(wheel: Path, archive: zipfile.ZipFile, layout: _Layout) -> dict[str, RecordEntry]:
    wheel_meta = archive.read(f"{layout.dist_info}/WHEEL").decode("utf-8", "replace")
    version = (first_header(wheel_meta, "Wheel-Version") or "1.0").strip()
    if version.split(".")[0] != "1":
        raise InstallError(
            f"`{wheel.name}` uses Wheel-Version {version}; kiln installs version 1 wheels",
            hint="use an older release of the package, or a newer kiln",
        )
    try:
        text = archive.read(f"{layout.dist_info}/RECORD").decode("utf-8")
    except KeyError:
        raise InstallError(
            f"`{wheel.name}` has no `{layout.dist_info}/RECORD`",
            hint="the wheel is malformed; report this to the package's maintainers",
        ) from None
    except UnicodeDecodeError as exc:
        raise InstallError(f"the RECORD of `{wheel.name}` is not UTF-8") from exc
    return {
        entry.path: entry
        for entry in parse_record(text, f"{wheel.name}/{layout.dist_info}/RECORD")
        if entry.hash and entry.path.rsplit("/", 1)[-1] not in _UNHASHED
    }


def _write_member(
    wheel: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    posix: str,
    target: str,
    executable: bool,
    check_crc: bool = True,
) -> RecordEntry:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if executable else 0o644)
    except FileExistsError:
        raise InstallError(
            f"`{wheel.name}` lists `{posix}` twice",
            hint="the wheel is malformed; report this to the package's maintainers",
        ) from None
    # The descriptor itself, not a file object: a file object costs an `fstat` and a few
    # Python calls per member, and a wheel has thousands of small ones.
    try:
        if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and not (
            info.flag_bits & 0x1
        ):
            digest, size, crc = _inflate_into(wheel, archive, info, posix, fd, check_crc)
            if size != info.file_size or (check_crc and crc != info.CRC):
                raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {info.filename!r}")
        else:
            digest, size = _copy_member(wheel, archive, info, posix, fd)
    finally:
        os.close(fd)
    return RecordEntry(posix, encode_digest("sha256", digest), size)


# A zip's local file header: signature, version, flags, method, time, date, crc, sizes,
# name and extra field lengths.
_LOCAL_HEADER = struct.Struct("<4sHHHHHLLLHH")
# Read and inflated a megabyte at a time: fresh multi-megabyte buffers for every member cost
# page faults, and the kernel time they take showed in a cold sync.
_INFLATE_CHUNK = 1 << 20
# Room for a member's name and local extra field in the read that takes its header.
_NAME_ROOM = 512
# Members up to this size (compressed) are read with their header.
_INLINE_DATA = 64 * 1024


def _inflate_into(
    wheel: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    posix: str,
    out: int,
    check_crc: bool = True,
) -> tuple[bytes, int, int]:
    """Inflate one member straight from the archive's file into ``out``: (sha256, size,
    crc32). zipfile's reader makes several Python calls per chunk; a wheel's thousands of
    small members made that most of unpacking. The checks are zipfile's own: the local
    header's name matches the directory's, and the data lies inside the archive."""
    fileno = archive.fp.fileno()  # type: ignore[union-attr]
    # The local header, the name and (for a small member, as most are) the data in one
    # read: each read is a system call that gives up the GIL. A large member's data is
    # read in chunks of its own, into no buffer larger than a chunk.
    at = info.header_offset
    inline = info.compress_size if info.compress_size <= _INLINE_DATA else 0
    head = os.pread(fileno, _LOCAL_HEADER.size + _NAME_ROOM + inline, at)
    if len(head) < _LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"Truncated file header for {info.filename!r}")
    signature, *_fields, name_length, extra_length = _LOCAL_HEADER.unpack_from(head)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"Bad magic number for file header of {info.filename!r}")
    data_start = _LOCAL_HEADER.size + name_length + extra_length
    if len(head) < _LOCAL_HEADER.size + name_length:
        head = os.pread(fileno, data_start + inline, at)
    name = head[_LOCAL_HEADER.size : _LOCAL_HEADER.size + name_length]
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if name.decode(encoding, "replace") != info.orig_filename:
        raise zipfile.BadZipFile(f"File name in directory {info.orig_filename!r} and header differ")
    pending = head[data_start : data_start + inline]
    offset = at + data_start + len(pending)
    remaining = info.compress_size - len(pending)
    digest = hashlib.sha256()
    crc = 0
    size = 0
    inflater = raw_inflater() if info.compress_type == zipfile.ZIP_DEFLATED else None
    data = b""
    while True:
        if pending:
            chunk, pending = pending, b""
        elif remaining:
            chunk = os.pread(fileno, min(remaining, _INFLATE_CHUNK), offset)
            if not chunk:
                raise zipfile.BadZipFile(f"Truncated data for {info.filename!r}")
            offset += len(chunk)
            remaining -= len(chunk)
        elif inflater is not None and data and not inflater.eof:
            # ISA-L takes in all the input it is given and holds back the output past
            # `max_length`, leaving no unconsumed tail (zlib keeps the input instead).
            chunk = b""
        else:
            break  # a stream that ends early leaves the size short, checked by the caller
        if inflater is None:
            data = chunk
        else:
            # Bounded by what the member declares: a crafted member cannot inflate past it
            # in memory before the size check sees it.
            data = inflater.decompress(chunk, min(_INFLATE_CHUNK, info.file_size - size + 1))
            pending = inflater.unconsumed_tail
        size += len(data)
        if size > info.file_size:
            raise oversized_member(wheel, posix, info.file_size)
        if data:
            digest.update(data)
            if check_crc:
                crc = crc32(data, crc)
            _write_all(out, data)
        if inflater is not None and inflater.eof:
            break
    return digest.digest(), size, crc


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


def _copy_member(
    wheel: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, posix: str, out: int
) -> tuple[bytes, int]:
    """Any other compression: zipfile reads it (and checks its CRC)."""
    digest = hashlib.sha256()
    size = 0
    with archive.open(info) as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if size > info.file_size:
                raise oversized_member(wheel, posix, info.file_size)
            _write_all(out, chunk)
    return digest.digest(), size


def _check(wheel: Path, posix: str, target: str, got: RecordEntry, expected: RecordEntry) -> None:
    if got.hash == expected.hash:
        # RECORD wrote the sha256 as this unpack did (the usual case): no digest decoded
        # and encoded again for each member.
        matches = True
    else:
        wanted = expected.digest()
        if wanted is None:
            return
        algo, digest = wanted
        if algo == "sha256":
            matches = got.hash == encode_digest("sha256", digest)
        else:
            with open(target, "rb") as f:
                matches = hashlib.new(algo, f.read()).digest() == digest
    if not matches or (expected.size is not None and expected.size != got.size):
        raise InstallError(
            f"`{posix}` in `{wheel.name}` does not match the hash its RECORD lists",
            hint="the wheel is corrupt or was altered after it was built; do not install it",
        )
