"""`--python-platform`: uv's target names, each as the markers and wheel tags of that platform.

The names and defaults are uv's (its `TargetTriple`): `linux` is
`x86_64-unknown-linux-gnu`, which accepts manylinux wheels up to glibc 2.28; the
`*-manylinux_2_X` names set the glibc version; `macos` is `aarch64-apple-darwin`
(macOS 12.0 and older wheels; `x86_64-apple-darwin` from 10.12); `windows` is
`x86_64-pc-windows-msvc`. Names uv has and kiln cannot describe yet (Android, iOS, Pyodide)
are refused by name.
"""

from __future__ import annotations

import re

from packaging import tags as ptags

from kiln.core.errors import UsageError
from kiln.core.records import record


@record
class TargetPlatform:
    """A platform named with `--python-platform`, as markers and wheel tags."""

    name: str  # as the user wrote it
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    platform_tags: tuple[str, ...]  # best first

    @property
    def markers(self) -> dict[str, str]:
        return {
            "sys_platform": self.sys_platform,
            "platform_system": self.platform_system,
            "platform_machine": self.platform_machine,
            "os_name": self.os_name,
            "platform_release": "",
            "platform_version": "",
        }


def _manylinux(arch: str, minor: int) -> tuple[str, ...]:
    aliases = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out: list[str] = []
    for glibc in range(minor, 4, -1):
        out.append(f"manylinux_2_{glibc}_{arch}")
        if glibc in aliases and arch in ("x86_64", "i686"):
            out.append(f"{aliases[glibc]}_{arch}")
        elif glibc == 17:
            out.append(f"manylinux2014_{arch}")
    out.append(f"linux_{arch}")
    return tuple(out)


def _musllinux(arch: str) -> tuple[str, ...]:
    return (f"musllinux_1_2_{arch}", f"musllinux_1_1_{arch}", f"linux_{arch}")


def _linux(name: str, arch: str, tags: tuple[str, ...]) -> TargetPlatform:
    return TargetPlatform(name, "linux", "Linux", arch, "posix", tags)


def _macos(name: str, arch: str, version: tuple[int, int]) -> TargetPlatform:
    tags = tuple(ptags.mac_platforms(version, arch))
    return TargetPlatform(name, "darwin", "Darwin", arch, "posix", tags)


def _windows(name: str, machine: str, tag: str) -> TargetPlatform:
    return TargetPlatform(name, "win32", "Windows", machine, "nt", (tag,))


_ALIASES = {
    "linux": "x86_64-unknown-linux-gnu",
    "macos": "aarch64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
_MANYLINUX = re.compile(r"^(x86_64|aarch64)-manylinux(?:2014|_2_(\d+))$")
_UNSUPPORTED = re.compile(r"-(linux-android|apple-ios(-simulator)?)$|^wasm32-pyodide")


def target_platform(text: str) -> TargetPlatform:
    name = text.strip()
    triple = _ALIASES.get(name, name)
    fixed = {
        "x86_64-unknown-linux-gnu": lambda: _linux(name, "x86_64", _manylinux("x86_64", 28)),
        "aarch64-unknown-linux-gnu": lambda: _linux(name, "aarch64", _manylinux("aarch64", 28)),
        "riscv64-unknown-linux": lambda: _linux(name, "riscv64", _manylinux("riscv64", 31)),
        "x86_64-unknown-linux-musl": lambda: _linux(name, "x86_64", _musllinux("x86_64")),
        "aarch64-unknown-linux-musl": lambda: _linux(name, "aarch64", _musllinux("aarch64")),
        "aarch64-apple-darwin": lambda: _macos(name, "arm64", (12, 0)),
        "x86_64-apple-darwin": lambda: _macos(name, "x86_64", (10, 12)),
        "x86_64-pc-windows-msvc": lambda: _windows(name, "AMD64", "win_amd64"),
        "aarch64-pc-windows-msvc": lambda: _windows(name, "ARM64", "win_arm64"),
        "i686-pc-windows-msvc": lambda: _windows(name, "x86", "win32"),
    }
    if triple in fixed:
        return fixed[triple]()
    match = _MANYLINUX.match(triple)
    if match is not None:
        glibc = int(match.group(2)) if match.group(2) else 17
        if 17 <= glibc <= 40:
            return _linux(name, match.group(1), _manylinux(match.group(1), glibc))
    if _UNSUPPORTED.search(triple):
        raise UsageError(
            f"`--python-platform {name}` is not supported by kiln yet",
            hint="resolve for a Linux, macOS or Windows target, or use uv for this platform",
        )
    known = [*_ALIASES, *fixed, "x86_64-manylinux2014", "x86_64-manylinux_2_17 … _2_40",
             "aarch64-manylinux2014", "aarch64-manylinux_2_17 … _2_40"]  # fmt: skip
    raise UsageError(
        f"`--python-platform {name}` is not a known platform",
        hint=f"use one of {', '.join(f'`{k}`' for k in known)}",
    )
