"""The one seam between accelerator detection and the machine it runs on.

Detection asks a `Probe` for environment variables, small files, short commands and the
OS; tests hand `detect` a fake probe and so present any machine. `SystemProbe` is the real
one: every read that fails answers "absent" (None or ()), so a missing driver, file or
command is never an error, and a command that hangs is killed after its timeout.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Protocol

from kiln.accel.nvml import NvmlGpu, read_nvml

COMMAND_TIMEOUT_S = 2.0
# /proc and /sys files that matter are a few hundred bytes; never read more than this.
_MAX_FILE_BYTES = 64 * 1024


class Probe(Protocol):
    def env(self, name: str) -> str | None:
        """An environment variable, or None when unset."""
        ...

    def read_text(self, path: str) -> str | None:
        """A small text file, or None when it is missing or unreadable."""
        ...

    def list_dir(self, path: str) -> tuple[str, ...]:
        """The entry names of a directory, sorted; () when it is missing."""
        ...

    def run(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> str | None:
        """A command's stdout when it exists and exits 0 within `timeout`; otherwise None."""
        ...

    def system(self) -> str:
        """The OS as `platform.system()` names it ("Linux", "Windows", "Darwin")."""
        ...

    def machine(self) -> str:
        """The CPU architecture as `platform.machine()` names it ("x86_64", "AMD64")."""
        ...

    def nvml_gpus(self, system: str) -> tuple[NvmlGpu, ...]:
        """Each NVIDIA GPU's name and compute capability from NVML; () when unavailable."""
        ...

    def windows_display_adapters(self) -> tuple[str, ...]:
        """Device instance ids of present Windows display adapters; () elsewhere."""
        ...


class SystemProbe:
    """The probe that reads this machine."""

    def env(self, name: str) -> str | None:
        return os.environ.get(name)

    def read_text(self, path: str) -> str | None:
        try:
            with open(path, "rb") as handle:
                return handle.read(_MAX_FILE_BYTES).decode("utf-8", "replace")
        except OSError:
            return None

    def list_dir(self, path: str) -> tuple[str, ...]:
        try:
            return tuple(sorted(os.listdir(path)))
        except OSError:
            return ()

    def run(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> str | None:
        # Look the command up first: an absent tool costs a PATH scan, not a process start.
        executable = shutil.which(argv[0])
        if executable is None:
            return None
        try:
            done = subprocess.run(
                [executable, *argv[1:]],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    def system(self) -> str:
        return platform.system()

    def machine(self) -> str:
        return platform.machine()

    def nvml_gpus(self, system: str) -> tuple[NvmlGpu, ...]:
        return read_nvml(system)

    def windows_display_adapters(self) -> tuple[str, ...]:
        return _windows_display_adapters()


def _windows_display_adapters() -> tuple[str, ...]:
    # What uv asks Configuration Manager: present devices of the display-adapter class.
    if sys.platform != "win32":
        return ()
    import ctypes

    display_class = "{4d36e968-e325-11ce-bfc1-08002be10318}"
    flags = 0x00000200 | 0x00000100  # CM_GETIDLIST_FILTER_CLASS | CM_GETIDLIST_FILTER_PRESENT
    try:
        cfgmgr = ctypes.WinDLL("cfgmgr32")
        size = ctypes.c_ulong(0)
        if cfgmgr.CM_Get_Device_ID_List_SizeW(ctypes.byref(size), display_class, flags) != 0:
            return ()
        buffer = ctypes.create_unicode_buffer(size.value)
        if cfgmgr.CM_Get_Device_ID_ListW(display_class, buffer, size.value, flags) != 0:
            return ()
    except (OSError, AttributeError):
        return ()
    # A run of NUL-terminated ids, ended by an empty one.
    return tuple(part for part in ctypes.wstring_at(buffer, size.value).split("\0") if part)
