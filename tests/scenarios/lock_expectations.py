"""What installing from the lock gives, per platform and Python, for packse's universal
scenarios whose description or explanation says so (packse's TOML gives no versions for most
of them). Each entry is read off the scenario's own words, not off kiln's output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kiln.python.platforms import Platform


@dataclass(frozen=True)
class Target:
    platform: Platform
    python: tuple[int, int]

    def __str__(self) -> str:
        return f"{self.platform.key}/{self.python[0]}.{self.python[1]}"


@dataclass(frozen=True)
class Where:
    """A set of targets: ``platform`` is "*", a `sys_platform` value, or a platform key;
    ``python`` is "3.X", or None for every Python the lock was made for."""

    platform: str = "*"
    python: str | None = None

    def expand(
        self, platforms: Sequence[Platform], pythons: Sequence[tuple[int, int]]
    ) -> list[Target]:
        chosen = [p for p in platforms if self.platform in ("*", p.sys_platform, p.key)]
        if self.python is not None:
            major, minor = (int(part) for part in self.python.split("."))
            pythons = [(major, minor)]
        assert chosen and pythons, f"{self} names no target"
        return [Target(p, py) for p in chosen for py in pythons]


EVERYWHERE = Where()
LINUX = Where("linux")
MACOS = Where("darwin")
WINDOWS = Where("win32")

NOTHING: Mapping[str, str] = {}
LINUX_A2_DARWIN_A1 = {LINUX: {"a": "2.0.0"}, MACOS: {"a": "1.0.0"}, WINDOWS: NOTHING}

# scenario id -> where -> exactly what is installed there (normalized name -> version).
LOCK_EXPECTED: Mapping[str, Mapping[Where, Mapping[str, str]]] = {
    "fork/fork-basic": LINUX_A2_DARWIN_A1,
    "fork/fork-marker-inherit": LINUX_A2_DARWIN_A1,
    # `c` comes from b 1.0.0 (pypy only) and would be linux-only below a darwin fork: never.
    "fork/fork-marker-inherit-combined": {
        LINUX: {"a": "2.0.0"},
        MACOS: {"a": "1.0.0", "b": "2.0.0"},
        WINDOWS: NOTHING,
    },
    # `c` of a<2 is filtered out inside the darwin fork; `c` of the unforked `b` stays.
    "fork/fork-marker-limited-inherit": {
        LINUX: {"a": "2.0.0", "b": "1.0.0", "c": "1.0.0"},
        MACOS: {"a": "1.0.0", "b": "1.0.0"},
        WINDOWS: {"b": "1.0.0"},
    },
    # `b` is PyPy-only; on CPython `c` is what `a` asks for on linux.
    "fork/fork-marker-accrue": {
        LINUX: {"a": "1.0.0", "c": "1.0.0"},
        MACOS: {"a": "1.0.0"},
        WINDOWS: {"a": "1.0.0"},
    },
    "fork/fork-filter-sibling-dependencies": {
        LINUX: {"a": "4.4.0", "b": "1.0.0", "d": "1.0.0"},
        MACOS: {"a": "4.3.0", "c": "1.0.0", "d": "2.0.0"},
        WINDOWS: NOTHING,
    },
    # the hole at 3.13 left by `a`'s markers still gets `c`
    "fork/fork-incomplete-markers": {
        Where(python="3.12"): {"a": "1.0.0", "b": "1.0.0"},
        Where(python="3.13"): {"b": "1.0.0", "c": "1.0.0"},
    },
    "fork/fork-overlapping-markers-basic": {EVERYWHERE: {"a": "1.2.0"}},
    "fork/fork-non-fork-marker-transitive": {
        LINUX: {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0"},
        MACOS: {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0"},
        WINDOWS: {"a": "1.0.0", "b": "1.0.0"},
    },
    # `python_version == '3.9'` (or 3.9.0, 3.9b1) lies outside `requires-python >= 3.10`
    "fork/fork-requires-python": {EVERYWHERE: NOTHING},
    "fork/fork-requires-python-full": {EVERYWHERE: NOTHING},
    "fork/fork-requires-python-full-prerelease": {EVERYWHERE: NOTHING},
    "tag_and_markers/unreachable-package": {
        WINDOWS: {"a": "1.0.0"},
        LINUX: NOTHING,
        MACOS: NOTHING,
    },
    "wheels/requires-python-subset": {
        WINDOWS: {"win-only": "1.0.0"},
        LINUX: NOTHING,
        MACOS: NOTHING,
    },
    # b on x86_64, c on aarch64, d (i686) nowhere; their wheels are cp313 only
    "wheels/specific-architecture": {
        Where("linux-x86_64", "3.13"): {"a": "1.0.0", "b": "1.0.0"},
        Where("linux-aarch64", "3.13"): {"a": "1.0.0", "c": "1.0.0"},
    },
}
