"""uv, where the machine has it: on PATH, or as the `uv` package beside the test runner."""

from __future__ import annotations

import shutil
import subprocess
import sys


def uv_command() -> list[str] | None:
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    return [sys.executable, "-m", "uv"] if probe.returncode == 0 else None
