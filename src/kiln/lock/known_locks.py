"""Lock files read before: their checked TOML kept in the cache, one entry per lock file.

Parsing a `pylock.toml` with `tomllib` and checking it against PEP 751 costs 0.1 to 0.2 s for
a lock of a few dozen packages, and `kiln sync` and `kiln run` read the same unchanged lock
on every call. So once a text has parsed and passed every check, its parsed tables are kept
beside the sha256 of that text; the next read of the same bytes takes them from there and
only builds the `Lock`. Different bytes, a damaged entry or no cache: the full read.

`marshal` rather than `pickle`: loading an entry can build plain values only, never run
code. TOML's date and time values are stored as ``(kind, isoformat)`` tuples, which a TOML
document itself never yields (its arrays parse to lists).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from kiln.cache.atomic import write_bytes
from kiln.cache.layout import Cache
from kiln.lock.model import Lock
from kiln.lock.pylock_toml import build_lock, parse_lock

_FORMAT = 1
_KINDS: dict[str, Any] = {"datetime": datetime, "date": date, "time": time}


def load_known_lock(text: str, path: Path, cache: Cache | None) -> Lock:
    """The lock in ``text``, read from ``path``: from the cache when these very bytes were
    read and checked before."""
    if cache is None:
        return build_lock(parse_lock(text, path), path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    entry = cache.bucket("locks") / f"{_entry_name(path)}.marshal"
    data = _remembered(entry, digest)
    if data is None:
        data = parse_lock(text, path)
        lock = build_lock(data, path)
        # Only a text that passed every check is remembered; a write that fails costs the
        # next read its speed, nothing else.
        with contextlib.suppress(OSError, ValueError):
            write_bytes(entry, marshal.dumps((_FORMAT, digest, _encode(data))))
        return lock
    return build_lock(data, path)


def _entry_name(path: Path) -> str:
    return hashlib.sha256(str(path.absolute()).encode("utf-8", "surrogateescape")).hexdigest()


def _remembered(entry: Path, digest: str) -> dict[str, Any] | None:
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    try:
        fmt, stored, data = marshal.loads(blob)
        if fmt != _FORMAT or stored != digest:
            return None
        decoded = _decode(data)
    except (EOFError, ValueError, TypeError, KeyError):
        return None  # damaged: read the file again and store it anew
    return decoded if isinstance(decoded, dict) else None


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, datetime):  # before date: a datetime is a date
        return ("datetime", value.isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, time):
        return ("time", value.isoformat())
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, tuple):
        kind, text = value
        return _KINDS[kind].fromisoformat(text)
    return value
