"""What a relock keeps from the lock before it: every fork's version of every name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from packaging.markers import Marker
from packaging.utils import NormalizedName
from packaging.version import Version

from kiln.lock.model import Lock


def lock_preferences(
    lock: Lock | None, upgrade: frozenset[NormalizedName] | bool = frozenset()
) -> Mapping[NormalizedName, tuple[tuple[Version, Marker | None], ...]]:
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
