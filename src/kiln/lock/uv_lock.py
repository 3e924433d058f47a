"""uv's own `uv.lock`, read for one thing only: the versions it pins, as a first lock's
preferences, so that moving a project from uv to kiln keeps what it had installed.

Only `version = 1` locks are read. Nothing in the file can stop a lock: whatever cannot be
read becomes a warning, and the lock is made without it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.core.records import record
from kiln.lock.toml_read import lock_tables

__all__ = ["UV_LOCK_NAME", "UvLockPins", "read_uv_lock"]

UV_LOCK_NAME = "uv.lock"
UV_LOCK_VERSION = 1

Pins = Mapping[NormalizedName, tuple[tuple[Version, Marker | None], ...]]


@record
class UvLockPins:
    """The versions a `uv.lock` beside the project pins, for the resolver to prefer."""

    preferences: Pins
    warnings: tuple[str, ...]


def read_uv_lock(path: Path) -> UvLockPins:
    """The pins of the `uv.lock` at ``path``, with what to tell about it."""
    try:
        data = lock_tables(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a TOML or UTF-8 error is a ValueError
        return _unreadable(path, f"it cannot be read: {exc}")
    return parse_uv_lock(data, path)


def parse_uv_lock(data: Mapping[str, Any], path: Path | str) -> UvLockPins:
    version = data.get("version")
    if version != UV_LOCK_VERSION or isinstance(version, bool):
        return _unreadable(path, f"its `version` is {version!r}; kiln reads {UV_LOCK_VERSION}")
    packages = data.get("package", [])
    if not isinstance(packages, list):
        return _unreadable(path, "its `package` is not an array of tables")
    found: dict[NormalizedName, list[tuple[Version, list[str]]]] = defaultdict(list)
    skipped = 0
    for entry in packages:
        if _built_from_folder(entry):
            continue
        pin = _pin(entry)
        if pin is None:
            skipped += 1
        else:
            found[pin[0]].append(pin[1:])
    out: dict[NormalizedName, tuple[tuple[Version, Marker | None], ...]] = {}
    for name, entries in found.items():
        # One version is preferred everywhere; several keep the forks uv gave each, so a
        # version pinned for old Pythons is not preferred on new ones.
        out[name] = tuple(
            (v, _any_of(markers) if len(entries) > 1 else None) for v, markers in entries
        )
    warnings = [f"reading preferences from `{path}` ({len(out)} pinned versions)"]
    if skipped:
        warnings.append(f"`{path}`: {skipped} `[[package]]` entries could not be read; skipped")
    return UvLockPins(out, tuple(warnings))


def _built_from_folder(entry: object) -> bool:
    """The project itself or a workspace member: no index's version to prefer."""
    if not isinstance(entry, dict):
        return False
    source = entry.get("source")
    return isinstance(source, dict) and bool({"editable", "virtual"} & source.keys())


def _pin(entry: object) -> tuple[NormalizedName, Version, list[str]] | None:
    if not isinstance(entry, dict):
        return None
    name, version = entry.get("name"), entry.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        return None
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    markers = entry.get("resolution-markers", [])
    texts = [m for m in markers if isinstance(m, str)] if isinstance(markers, list) else []
    return canonicalize_name(name), parsed, texts


def _any_of(markers: list[str]) -> Marker | None:
    if not markers:
        return None
    try:
        return Marker(" or ".join(f"({m})" for m in markers))
    except InvalidMarker:
        return None


def _unreadable(path: Path | str, why: str) -> UvLockPins:
    return UvLockPins({}, (f"`{path}` is not used: {why}",))
