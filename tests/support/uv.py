"""uv, where the machine has it: on PATH, or as the `uv` package beside the test runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def uv_command() -> list[str] | None:
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    return [sys.executable, "-m", "uv"] if probe.returncode == 0 else None


def uv_install_lock(
    uv: list[str], lock: Path, venv: Path, scratch: Path
) -> subprocess.CompletedProcess[str]:
    """`uv pip install -r pylock.toml` into ``venv``, with nothing of this machine's uv or pip
    configuration and a cache of its own under ``scratch``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_", "KILN_")) and k != "VIRTUAL_ENV"
    }
    env.update(UV_CACHE_DIR=str(scratch / "uv-cache"), XDG_CONFIG_HOME=str(scratch / "xdg"))
    return subprocess.run(
        [*uv, "pip", "install", "-r", str(lock), "--python", str(venv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
