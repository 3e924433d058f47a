"""CPython interpreters installed on this machine, found rather than assumed: pyenv's
versions folder (`$PYENV_ROOT`, default `~/.pyenv`), then each `python3.X` on PATH (asked for
its version; pyenv's shims and copies inside a venv are passed over)."""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

from packaging.version import InvalidVersion, Version

_VERSION_FOLDER = re.compile(r"\d+\.\d+\.\d+")
_PYTHON_ON_PATH = re.compile(r"python3(\.\d+)?")


def _pyenv_versions() -> Path:
    root = os.environ.get("PYENV_ROOT")
    return Path(root) if root else Path.home() / ".pyenv"


def _version_of(exe: Path) -> str | None:
    try:
        done = subprocess.run(
            [str(exe), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text if done.returncode == 0 and _VERSION_FOLDER.fullmatch(text) else None


def _in_a_venv(real: Path) -> bool:
    # A venv that copies its interpreter holds a binary that runs as that venv, not as a
    # base Python; one that links it resolves to the base, which is what is wanted.
    return (real.parent.parent / "pyvenv.cfg").exists()


@cache
def installed_pythons() -> dict[str, Path]:
    """Full CPython version -> interpreter: pyenv's versions (its folder names are the
    versions), then each `python3.X` on PATH (asked for its version; first one wins)."""
    found: dict[str, Path] = {}
    versions = _pyenv_versions() / "versions"
    if versions.is_dir():
        for folder in sorted(versions.iterdir()):
            exe = folder / "bin" / "python3"
            if _VERSION_FOLDER.fullmatch(folder.name) and exe.exists():
                found[folder.name] = exe
    seen: set[Path] = set()
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(entry)
        if not entry or not folder.is_dir() or "shims" in folder.parts:
            continue  # pyenv's shims run whatever pyenv selects, not one version
        for exe in sorted(folder.iterdir()):
            if not _PYTHON_ON_PATH.fullmatch(exe.name) or not os.access(exe, os.X_OK):
                continue
            real = exe.resolve()
            if real in seen or _in_a_venv(real):
                continue
            seen.add(real)
            version = _version_of(real)
            if version is not None:
                found.setdefault(version, real)
    return found


def interpreter_for(version: str) -> Path | None:
    """An interpreter for ``3.X`` (the newest patch installed) or exactly ``3.X.Y``."""
    pythons = installed_pythons()
    if version.count(".") >= 2:
        return pythons.get(version)
    matching = [v for v in pythons if v.startswith(version + ".")]
    if not matching:
        return None
    return pythons[max(matching, key=_version_key)]


def _version_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:  # pragma: no cover - folder names are checked above
        return Version("0")
