"""The platforms a universal lock is resolved for, as marker values and wheel tags.

A lock serves machines kiln never runs on, so their environments are described here rather
than inspected: the markers a CPython on that platform reports, and the tags it accepts,
best first, computed with `packaging.tags` exactly as that interpreter would.
"""

from __future__ import annotations

import functools

from packaging import tags as ptags
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag

from kiln.core.environment import Environment
from kiln.core.records import record


@record
class Platform:
    """One platform a universal lock covers, with its marker values and wheel tags."""

    key: str  # "linux-x86_64"
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    platform_tags: tuple[str, ...]  # best first

    @property
    def words(self) -> str:
        os_words = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}
        return f"{os_words.get(self.sys_platform, self.sys_platform)} {self.platform_machine}"

    @property
    def marker(self) -> Marker:
        return Marker(
            f"sys_platform == '{self.sys_platform}' and platform_machine == '{self.platform_machine}'"
        )


def _manylinux(arch: str) -> tuple[str, ...]:
    # glibc 2.5 (manylinux1) to 2.28, newest first, with the legacy aliases where PEP 600
    # keeps them: a lock target runs on any current distribution.
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out: list[str] = []
    for minor in range(28, 4, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        if minor in aliases:
            out.append(f"{aliases[minor]}_{arch}")
    out.append(f"linux_{arch}")
    return tuple(out)


LINUX_X86_64 = Platform("linux-x86_64", "linux", "Linux", "x86_64", "posix", _manylinux("x86_64"))
LINUX_AARCH64 = Platform(
    "linux-aarch64", "linux", "Linux", "aarch64", "posix", _manylinux("aarch64")
)
MACOS_ARM64 = Platform(
    "macos-arm64",
    "darwin",
    "Darwin",
    "arm64",
    "posix",
    tuple(ptags.mac_platforms((14, 0), "arm64")),
)
MACOS_X86_64 = Platform(
    "macos-x86_64",
    "darwin",
    "Darwin",
    "x86_64",
    "posix",
    tuple(ptags.mac_platforms((14, 0), "x86_64")),
)
WINDOWS_AMD64 = Platform("windows-amd64", "win32", "Windows", "AMD64", "nt", ("win_amd64",))
WINDOWS_ARM64 = Platform("windows-arm64", "win32", "Windows", "ARM64", "nt", ("win_arm64",))

# The machines users lock for most; tests and reports read locks on these.
DEFAULT_PLATFORMS: tuple[Platform, ...] = (LINUX_X86_64, LINUX_AARCH64, MACOS_ARM64, WINDOWS_AMD64)
# The machines a lock is checked against after resolving (`lock.coverage`).
MATRIX_PLATFORMS: tuple[Platform, ...] = (
    LINUX_X86_64,
    LINUX_AARCH64,
    MACOS_ARM64,
    MACOS_X86_64,
    WINDOWS_AMD64,
    WINDOWS_ARM64,
)

# The newest CPython a lock is checked for; the resolution itself has no upper bound.
NEWEST_PYTHON = (3, 15)
OLDEST_PYTHON = (3, 8)


def matrix_pythons(requires_python: SpecifierSet | None) -> tuple[tuple[int, int], ...]:
    """The CPython minor versions, up to `NEWEST_PYTHON`, that ``requires-python`` admits."""
    out = []
    for minor in range(OLDEST_PYTHON[1], NEWEST_PYTHON[1] + 1):
        if requires_python is None or any(
            requires_python.contains(f"3.{minor}.{patch}", prereleases=True) for patch in (0, 99)
        ):
            out.append((3, minor))
    return tuple(out)


@functools.lru_cache(maxsize=512)
def platform_environment(
    platform: Platform, python: tuple[int, int], floor: tuple[int, int] | None = None
) -> Environment:
    """The environment of CPython ``python`` on ``platform``.

    With ``floor``, wheels built for any CPython from ``floor`` up to ``python`` also count as
    fitting (after the interpreter's own): a lock for ``requires-python >= 3.12`` accepts a
    release with cp312 wheels only, as uv does, and installing it on 3.13 is what fails,
    with a message that names the missing wheel. Without it, the tags are exactly those the
    interpreter accepts.
    """
    major, minor = python
    markers = platform_markers(platform, python)
    interpreter = f"cp{major}{minor}"
    plats = list(platform.platform_tags)
    found = [
        *ptags.cpython_tags((major, minor), [interpreter], plats),
        *ptags.compatible_tags((major, minor), interpreter, plats),
    ]
    if floor is not None:
        for lower in range(minor - 1, floor[1] - 1, -1):
            found.extend(ptags.cpython_tags((major, lower), [f"cp{major}{lower}"], plats))
    return Environment(markers, tuple(dict.fromkeys(found)))


def platform_markers(platform: Platform, python: tuple[int, int]) -> dict[str, str]:
    """The marker values of CPython ``python`` on ``platform``."""
    version = f"{python[0]}.{python[1]}"
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{version}.0",
        "os_name": platform.os_name,
        "platform_machine": platform.platform_machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": platform.platform_system,
        "platform_version": "",
        "python_full_version": f"{version}.0",
        "python_version": version,
        "sys_platform": platform.sys_platform,
    }


# Never a real platform tag: stands for each of a platform's tags in `platform_fit`.
_EACH_PLATFORM = "\x00each"


@record
class TagFit:
    """Which wheel tags CPython accepts on one platform, without listing every tag.

    `packaging.tags` pairs each (interpreter, ABI) it accepts with every platform tag alike,
    plus some pairs with ``any``; so whether a tag fits is whether its pair is accepted
    with its platform. One CPython on one platform accepts about a thousand tags, and
    building them for every place of the lock's coverage matrix was most of that check.
    """

    platforms: frozenset[str]
    with_platform: frozenset[tuple[str, str]]
    with_any: frozenset[tuple[str, str]]

    def fits(self, tags: frozenset[Tag]) -> bool:
        for tag in tags:
            pair = (tag.interpreter, tag.abi)
            if tag.platform == "any":
                if pair in self.with_any:
                    return True
            elif tag.platform in self.platforms and pair in self.with_platform:
                return True
        return False


@functools.lru_cache(maxsize=512)
def platform_fit(platform: Platform, python: tuple[int, int]) -> TagFit:
    """The tags `platform_environment` (without a floor) accepts, as a `TagFit`."""
    with_platform, with_any = _accepted_pairs(python)
    return TagFit(
        frozenset(ptags.Tag("py3", "none", p).platform for p in platform.platform_tags),
        with_platform,
        with_any,
    )


@functools.lru_cache(maxsize=64)
def _accepted_pairs(
    python: tuple[int, int],
) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """The (interpreter, ABI) pairs CPython ``python`` accepts with each platform tag, and
    with ``any``: the same on every platform, so built once per Python, not once per place."""
    major, minor = python
    interpreter = f"cp{major}{minor}"
    each = [_EACH_PLATFORM]
    with_platform: set[tuple[str, str]] = set()
    with_any: set[tuple[str, str]] = set()
    for tag in (
        *ptags.cpython_tags((major, minor), [interpreter], each),
        *ptags.compatible_tags((major, minor), interpreter, each),
    ):
        pairs = with_any if tag.platform == "any" else with_platform
        pairs.add((tag.interpreter, tag.abi))
    return frozenset(with_platform), frozenset(with_any)
