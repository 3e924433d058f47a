"""The platforms a universal lock is resolved for, as marker values and wheel tags.

A lock serves machines kiln never runs on, so their environments are described here rather
than inspected: the markers a CPython on that platform reports, and the tags it accepts,
best first, computed with `packaging.tags` exactly as that interpreter would.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from packaging import tags as ptags
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from kiln.core.environment import Environment


@dataclass(frozen=True)
class Platform:
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
    version = f"{major}.{minor}"
    markers = {
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
