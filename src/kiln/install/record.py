"""RECORD files (the wheel spec's list of installed files with their hashes and sizes)."""

from __future__ import annotations

import binascii
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from kiln.core.errors import InstallError
from kiln.core.hashes import GUARANTEED, small_sha256

# What makes a field need csv's quoting; RECORD paths almost never have it.
_SPECIAL = re.compile(r'[,"\r\n]')

# RECORD's digests are urlsafe base64 without padding. binascii's alphabet swapped by hand:
# the base64 module is a millisecond of imports for these two lines.
_TO_URLSAFE = str.maketrans("+/", "-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")


class RecordEntry(NamedTuple):
    """One RECORD line: a ``/``-separated path, ``algo=urlsafe-b64-digest`` or "", size or None.

    A named tuple: an install reads and writes one per file, and a frozen dataclass cost
    several times as much to make.
    """

    path: str
    hash: str = ""
    size: int | None = None

    def digest(self) -> tuple[str, bytes] | None:
        """The algorithm and raw digest, or None when the line carries no usable hash."""
        algo, sep, encoded = self.hash.partition("=")
        if not sep or algo not in GUARANTEED:
            return None
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            return algo, binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
        except ValueError:
            return None


def encode_digest(algo: str, digest: bytes) -> str:
    text = binascii.b2a_base64(digest, newline=False).rstrip(b"=").decode("ascii")
    return f"{algo}=" + text.translate(_TO_URLSAFE)


def entry_for_bytes(path: str, data: bytes) -> RecordEntry:
    return RecordEntry(path, encode_digest("sha256", small_sha256(data)), len(data))


def entry_for_file(path: str, file: Path) -> RecordEntry:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(file, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return RecordEntry(path, encode_digest("sha256", digest.digest()), size)


def parse_record(text: str, origin: str = "RECORD") -> list[RecordEntry]:
    """The entries of a RECORD's ``text``; `InstallError` naming ``origin`` when csv cannot
    read it (a carriage return inside a field, a NUL on Python 3.10)."""
    # Without a quote or a carriage return, csv's reader splits lines at "\n" and fields at
    # ",", so plain string splits read the same rows: an install reads every wheel's
    # RECORD, thousands of lines, and the csv module's rows cost twice as much (and its
    # import, a sync from the cache nothing). A NUL is csv's error on Python 3.10: left to it.
    if '"' not in text and "\r" not in text and "\x00" not in text:
        return _entries(line.split(",") for line in text.split("\n"))
    import csv

    try:
        return _entries(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InstallError(
            f"`{origin}` cannot be read as a RECORD",
            causes=[str(exc)],
            hint="the wheel is malformed; report this to the package's maintainers",
        ) from exc


def _entries(rows: Iterable[list[str]]) -> list[RecordEntry]:
    entries: list[RecordEntry] = []
    for row in rows:
        if not row or not row[0]:
            continue
        size: int | None = None
        if len(row) > 2 and row[2].strip():
            try:
                size = int(row[2])
            except ValueError:
                size = None
        entries.append(RecordEntry(row[0], row[1] if len(row) > 1 else "", size))
    return entries


def read_record(path: Path) -> list[RecordEntry]:
    return parse_record(path.read_text(encoding="utf-8"), str(path))


def format_record(entries: Iterable[RecordEntry]) -> bytes:
    rows = list(entries)
    text = "".join(
        [f"{path},{digest},{'' if size is None else size}\n" for path, digest, size in rows]
    )
    # Two commas and one newline a line, and no quote or carriage return: no field needed
    # quoting, and the plain lines are csv's (one check of the text, not two per line).
    if (
        text.count(",") == 2 * len(rows)
        and text.count("\n") == len(rows)
        and '"' not in text
        and "\r" not in text
    ):
        return text.encode("utf-8")
    lines: list[str] = []
    special = _SPECIAL.search
    for path, digest, size in rows:
        if special(path) or special(digest):
            # csv's quoting, exactly as its writer would put this one line.
            import csv

            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow(
                (path, digest, "" if size is None else size)
            )
            lines.append(out.getvalue())
        else:
            lines.append(f"{path},{digest},{'' if size is None else size}\n")
    return "".join(lines).encode("utf-8")
