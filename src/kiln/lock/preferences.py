"""What a relock keeps from the lock before it: every fork's version of every name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.lock.model import Lock
from kiln.lock.pylock_toml import FOREIGN_FINGERPRINT
from kiln.lock.uv_lock import read_uv_lock

Preferences = Mapping[NormalizedName, tuple[tuple[Version, Marker | None], ...]]


def lock_preferences(
    lock: Lock | None, upgrade: frozenset[NormalizedName] | bool = frozenset()
) -> Preferences:
    """Name -> (version, marker) for each entry of ``lock``, except the names being upgraded
    (``True``: all of them). A name locked at ``2.5.1+cpu`` on Linux and ``2.5.1`` on macOS
    keeps both, each where it applied."""
    if lock is None or upgrade is True:
        return {}
    out: dict[NormalizedName, list[tuple[Version, Marker | None]]] = defaultdict(list)
    for package in lock.packages:
        if upgrade and package.name in upgrade:
            continue
        out[package.name].append((package.version, package.marker))
    return {name: tuple(pins) for name, pins in out.items()}


def starting_preferences(
    previous: Lock | None, uv_lock: Path, upgrade: frozenset[NormalizedName] | bool = frozenset()
) -> tuple[Preferences, tuple[str, ...]]:
    """What a lock starts from, with what to tell about it: the previous `pylock.toml`'s pins
    or, for a project's first lock, those of the `uv.lock` at ``uv_lock`` where there is one."""
    if previous is not None:
        notes: tuple[str, ...] = ()
        if previous.fingerprint == FOREIGN_FINGERPRINT:
            notes = (
                f"the lock was made by `{previous.created_by}`, not kiln: "
                "relocking, preferring its versions",
            )
        return lock_preferences(previous, upgrade), notes
    if upgrade is True or not uv_lock.is_file():
        return {}, ()
    pins = read_uv_lock(uv_lock)
    kept = {name: p for name, p in pins.preferences.items() if not (upgrade and name in upgrade)}
    return kept, pins.warnings
