#!/usr/bin/env python3
"""Time the overhead of `kiln run` against `uv run` on an up-to-date project.

Both tools get the same small project (one pure-Python dependency from PyPI), locked and
synced once untimed; then `<tool> run python -c pass` is timed N times and compared with
`python -c pass` run directly from the environment. What is left over is each tool's cost of
checking that the lock and environment are current before it runs anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYPROJECT = """[project]
name = "overhead"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["six==1.16.0"]
"""


def clean_env(cache: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_", "KILN_", "VIRTUAL_ENV"))
    }
    env.update(
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_CACHE_DIR=str(cache / "uv"),
        KILN_CACHE_DIR=str(cache / "kiln"),
        PIP_CONFIG_FILE=os.devnull,
    )
    return env


def timed(cmd: list[str], cwd: Path, env: dict[str, str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(
            cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="runs per tool (median reported)")
    parser.add_argument("--python", default="/root/.pyenv/versions/3.12.1/bin/python3")
    parser.add_argument(
        "--kiln-python", default=sys.executable, help="the Python kiln is installed in"
    )
    parser.add_argument(
        "--uv", default=shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kiln-run-bench-"))
    env = clean_env(work)
    tools = {
        "kiln": [args.kiln_python, "-m", "kiln"],
        "uv": [args.uv],
    }
    results: dict[str, float] = {}
    try:
        for tool, base in tools.items():
            project = work / f"project-{tool}"
            project.mkdir()
            (project / "pyproject.toml").write_text(PYPROJECT)
            done = subprocess.run(
                [*base, "sync", "--python", args.python],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"{tool} sync failed:\n{done.stderr}")
            results[tool] = statistics.median(
                timed([*base, "run", "python", "-c", "pass"], project, env, args.n)
            )
        bare = statistics.median(
            timed(
                [str(work / "project-uv" / ".venv" / "bin" / "python"), "-c", "pass"],
                work,
                env,
                args.n,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'tool':<8}{'median s':>10}{'overhead s':>12}")
    print(f"{'python':<8}{bare:>10.3f}{0:>12.3f}")
    for tool, seconds in results.items():
        print(f"{tool:<8}{seconds:>10.3f}{seconds - bare:>12.3f}")
    print(
        f"kiln/uv overhead ratio: {(results['kiln'] - bare) / max(results['uv'] - bare, 1e-9):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
