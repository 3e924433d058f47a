"""What installing from the lock gives, per platform and Python, for packse's universal
scenarios (packse's TOML gives no versions for most of them, and a union of versions says
nothing about which platform gets which).

Each entry is read off the scenario's own words where they say it, else off uv's own lock
for the scenario (the `uv.lock` snapshot in uv's `lock_scenarios.rs`, which uv's generator
makes from these same files), never off kiln's output. uv's lock is the reference because
kiln forks where uv forks and prefers versions across forks as uv does (DESIGN.md); where uv
itself is known to answer wrongly (`backtracking/wrong-backtracking-indirect`, uv#12060),
there is no entry.
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
    """A set of targets: ``platform`` is "*", a `sys_platform` value, "!" and one (every
    other platform), or a platform key; ``python`` is "3.X", or None for every Python the lock
    was made for."""

    platform: str = "*"
    python: str | None = None

    def expand(
        self, platforms: Sequence[Platform], pythons: Sequence[tuple[int, int]]
    ) -> list[Target]:
        if self.platform.startswith("!"):
            chosen = [p for p in platforms if p.sys_platform != self.platform[1:]]
        else:
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
    # -- from uv's lock, where the scenario's words give no versions ----------------------
    # The description says the fork leaves `a>=1` free to take 2.0.0; uv no longer does.
    "fork/fork-allows-non-conflicting-non-overlapping-dependencies": {
        LINUX: {"a": "1.0.0"},
        MACOS: {"a": "1.0.0"},
        WINDOWS: NOTHING,
    },
    "fork/fork-allows-non-conflicting-repeated-dependencies": {EVERYWHERE: {"a": "1.0.0"}},
    "fork/fork-marker-inherit-combined-allowed": {
        LINUX: {"a": "2.0.0"},
        MACOS: {"a": "1.0.0", "b": "2.0.0"},
        WINDOWS: NOTHING,
    },
    "fork/fork-marker-inherit-combined-disallowed": {
        LINUX: {"a": "2.0.0"},
        MACOS: {"a": "1.0.0", "b": "2.0.0"},
        WINDOWS: NOTHING,
    },
    "fork/fork-marker-inherit-isolated": {
        LINUX: {"a": "2.0.0", "b": "1.0.0"},
        MACOS: {"a": "1.0.0"},
        WINDOWS: NOTHING,
    },
    "fork/fork-marker-inherit-transitive": {
        LINUX: {"a": "2.0.0"},
        MACOS: {"a": "1.0.0", "b": "1.0.0", "c": "1.0.0"},
        WINDOWS: NOTHING,
    },
    # "ensure that only one version of `a` is selected"
    "fork/fork-marker-selection": {
        LINUX: {"a": "0.1.0", "b": "2.0.0"},
        MACOS: {"a": "0.1.0", "b": "1.0.0"},
        WINDOWS: {"a": "0.1.0"},
    },
    "fork/fork-marker-track": {
        LINUX: {"a": "1.3.1", "b": "2.8"},
        MACOS: {"a": "1.3.1", "b": "2.7"},
        WINDOWS: {"a": "1.3.1"},
    },
    # only `windows`/`illumos` (sys_platform) and `linux`/`darwin` (os_name) are named: none
    # of them is a real platform's value for that variable
    "fork/fork-remaining-universe-partitioning": {EVERYWHERE: NOTHING},
    "fork/fork-upgrade": {EVERYWHERE: {"bar": "2.0.0", "foo": "2.0.0"}},
    "fork/preferences-dependent-forking": {
        LINUX: {"bar": "2.0.0", "cleaver": "1.0.0", "foo": "1.0.0"},
        MACOS: {"bar": "1.0.0", "cleaver": "1.0.0", "foo": "1.0.0"},
        WINDOWS: {"bar": "1.0.0", "cleaver": "1.0.0", "foo": "1.0.0"},
    },
    # The bistable and tristable cases are about the lock staying put when resolved again
    # from itself (checked for every lock); which valid versions the first lock holds
    # depends on the order forks are solved in, so uv's are not required of kiln.
    # "All platforms select the stable release of `c`"
    "prereleases/prerelease-base-marker-stable-preference-explicit-first": {
        EVERYWHERE: {"c": "1.0.0"}
    },
    "prereleases/prerelease-base-marker-stable-preference-plain-first": {
        EVERYWHERE: {"c": "1.0.0"}
    },
    # "The equivalent Linux requirements prefer `c==1.0.0` in the fork where they apply."
    "prereleases/prerelease-marker-equivalent-stable-preference": {
        LINUX: {"c": "1.0.0"},
        Where("!linux"): NOTHING,
    },
    "prereleases/prerelease-marker-stable-preference-backtracks": {
        LINUX: {"a": "1.0.0", "c": "1.0.0", "d": "1.0.0"},
        Where("!linux"): {"a": "1.0.0", "d": "1.0.0"},
    },
    # "Linux selects the required pre-release of `c`, while other platforms retain the stable
    # release."
    "prereleases/transitive-prerelease-forks": {
        LINUX: {"a": "1.0.0", "c": "2.0.0b1"},
        Where("!linux"): {"a": "1.0.0", "c": "1.0.0"},
    },
    "tag_and_markers/marker-variants-have-different-extras": {
        Where("!win32"): {"psycopg": "1.0.0", "psycopg-binary": "1.0.0"},
        WINDOWS: {"psycopg": "1.0.0", "psycopg-binary": "1.0.0", "tzdata": "1.0.0"},
    },
    # each package's wheels are cp312 for x86_64 only; macOS arm64 and Linux aarch64 have none
    "tag_and_markers/unreachable-wheels": {
        Where("linux-x86_64", "3.12"): {"b": "1.0.0"},
        Where("windows-amd64", "3.12"): {"a": "1.0.0"},
    },
    "tag_and_markers/virtual-package-extra-priorities": {EVERYWHERE: {"a": "1.0.0", "b": "1.0.0"}},
}
