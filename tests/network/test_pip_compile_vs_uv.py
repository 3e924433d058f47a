"""`kiln pip compile --universal` beside `uv pip compile --universal` on real PyPI: the same
pins, split by Python the same way, written with the same markers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.network.uv_lock_diff import clean_env, find_interpreters, run, uv_command

pytestmark = pytest.mark.network

CUTOFF = "2026-10-01T00:00:00Z"


def pins(text: str) -> list[str]:
    # The `# via` lines name the input file as each tool was given it; the pins are the answer.
    return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("floor", ["3.9", "3.11"])
def test_universal_pins_and_markers_match_uv(tmp_path: Path, floor: str) -> None:
    uv = uv_command()
    interpreters = find_interpreters()
    if uv is None or not interpreters:
        pytest.skip("needs uv and a CPython interpreter")
    dirs = [path.parent for _, path in interpreters.values()]
    (tmp_path / "requirements.in").write_text("numpy\npandas\nrich\n")
    common = ["requirements.in", "--universal", "--no-header"]
    theirs = run(
        [*uv, "pip", "compile", *common, "-p", floor, "--exclude-newer", CUTOFF],
        tmp_path,
        clean_env(
            {
                "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
                "UV_PYTHON_DOWNLOADS": "never",
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
            },
            dirs,
        ),
    )
    assert theirs.returncode == 0, theirs.tail()
    ours = run(
        [sys.executable, "-m", "kiln", "pip", "compile", *common, "--python-version", floor,
         "--exclude-newer", CUTOFF],
        tmp_path,
        clean_env({"KILN_CACHE_DIR": str(tmp_path / "kiln-cache")}, dirs),
    )  # fmt: skip
    assert ours.returncode == 0, ours.tail()
    assert pins(ours.stdout) == pins(theirs.stdout)
