"""Real PyPI, pinned in time with --exclude-newer: the same pins on every run, on any day."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user
Kiln = Callable[..., "subprocess.CompletedProcess[str]"]

# What was newest on PyPI at the end of 2024-06-01 (UTC). Newer releases followed soon after
# (certifi 2024.6.2 the next day, packaging 24.1 and idna 3.8 that summer), so any leak of a
# later upload shows.
NEWEST_ON_2024_06_01 = {
    "requests": "2.32.3",
    "certifi": "2024.2.2",
    "charset-normalizer": "3.3.2",
    "idna": "3.7",
    "urllib3": "2.2.1",
    "six": "1.16.0",
    "packaging": "24.0",
    "attrs": "23.2.0",
}


def pins(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in done.stderr.splitlines():
        if line.startswith(" + "):
            name, _, version = line[3:].partition("==")
            found[name] = version
    return found


def test_exclude_newer_gives_the_same_pins_twice_and_they_are_that_days_newest(
    kiln: Kiln, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", PY312, check=True)
    command = (
        "pip", "install", "requests", "six", "packaging", "attrs",
        "--exclude-newer", "2024-06-01", "--dry-run", "--python", str(venv),
    )  # fmt: skip
    first = kiln(*command, check=True)
    # A second run from an empty cache: nothing carried over but the date.
    second = kiln(*command, env={"KILN_CACHE_DIR": str(tmp_path / "other-cache")}, check=True)
    assert pins(first) == pins(second) == NEWEST_ON_2024_06_01
