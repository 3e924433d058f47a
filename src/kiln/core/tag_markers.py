"""Where a wheel can be installed, as a marker: the environments its tags serve.

The universal resolver asks whether a wheel serves any part of a marker region (a version
with only cp38 wheels serves nothing of ``python >= 3.9``), and which part a local build
covers (``2.5.1+cpu`` has no macOS wheels, so macOS takes the plain build).
"""

from __future__ import annotations

import functools
import re

from packaging.markers import Marker
from packaging.tags import Tag

from kiln.core.markers import NEVER, marker_of, union

_LINUX = re.compile(r"^(?:many|musl)?linux(?:1|2010|2014|_\d+_\d+)?_(.+)$")
_MACOS = re.compile(r"^macosx_\d+_\d+_(.+)$")
_MAC_ARCHES = {
    "arm64": ("arm64",),
    "x86_64": ("x86_64",),
    "intel": ("x86_64",),
    "universal2": ("arm64", "x86_64"),
    "universal": ("x86_64",),
}
_WINDOWS = {"win_amd64": "AMD64", "win_arm64": "ARM64", "win32": "x86"}
_CPYTHON = re.compile(r"^cp(\d)(\d+)$")
_PY = re.compile(r"^py(\d)(\d*)$")
_PYPY = re.compile(r"^pp(\d)(\d+)$")


def platform_condition(platform: str) -> str | None:
    """The marker text of one platform tag; None for ``any``."""
    if platform == "any":
        return None
    match = _LINUX.match(platform)
    if match:
        return f"sys_platform == 'linux' and platform_machine == '{match.group(1)}'"
    match = _MACOS.match(platform)
    if match:
        arches = _MAC_ARCHES.get(match.group(1), (match.group(1),))
        machine = " or ".join(f"platform_machine == '{a}'" for a in arches)
        return f"sys_platform == 'darwin' and ({machine})"
    if platform in _WINDOWS:
        return f"sys_platform == 'win32' and platform_machine == '{_WINDOWS[platform]}'"
    # iOS, Android, emscripten and the rest: a platform of its own that a lock's
    # environments only reach when they name it.
    return f"sys_platform == '{platform.split('_')[0]}' and platform_machine == '{platform}'"


def interpreter_condition(interpreter: str, abi: str) -> str | None:
    """The marker text of an interpreter tag with its ABI; None when every Python 3 fits."""
    match = _CPYTHON.match(interpreter)
    if match:
        version = f"{match.group(1)}.{match.group(2)}"
        if abi == "abi3":
            return f"implementation_name == 'cpython' and python_full_version >= '{version}'"
        if abi == "none":
            return f"python_version == '{version}'"
        return f"implementation_name == 'cpython' and python_version == '{version}'"
    match = _PY.match(interpreter)
    if match:
        if match.group(1) != "3":
            return "python_version < '3'"
        if not match.group(2):
            return None
        return f"python_full_version >= '3.{match.group(2)}'"
    match = _PYPY.match(interpreter)
    if match:
        return (
            f"implementation_name == 'pypy' and python_version == "
            f"'{match.group(1)}.{match.group(2)}'"
        )
    return f"implementation_name == '{interpreter}'"


def _both(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return f"({a}) and ({b})"


@functools.lru_cache(maxsize=8192)
def tag_marker(tag: Tag) -> Marker | None:
    """Where a wheel with this one tag installs (None: everywhere)."""
    text = _both(interpreter_condition(tag.interpreter, tag.abi), platform_condition(tag.platform))
    return marker_of(text) if text else None


@functools.lru_cache(maxsize=8192)
def platforms_marker(tags: frozenset[Tag]) -> Marker | None:
    """The platforms a wheel with these tags serves, whatever the Python. macOS counts as
    one platform here, as uv counts it when it splits a local build's platforms from the
    plain build's: a ``+cpu`` build never stands beside a plain one for one Mac."""
    result: Marker | None = NEVER
    for platform in sorted({t.platform for t in tags}):
        text = (
            "sys_platform == 'darwin'" if _MACOS.match(platform) else platform_condition(platform)
        )
        result = union(result, marker_of(text) if text else None)
        if result is None:
            return None
    return result
