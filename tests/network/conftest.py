"""Network tests run only when the real PyPI answers."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PYPI_SIMPLE = "https://pypi.org/simple/"


@pytest.fixture(scope="session", autouse=True)
def pypi_reachable() -> Iterator[None]:
    request = urllib.request.Request(PYPI_SIMPLE, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except (urllib.error.URLError, OSError) as error:
        pytest.skip(f"PyPI is unreachable: {error}")
    yield


KilnRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def kiln(tmp_path_factory: pytest.TempPathFactory) -> KilnRunner:
    """`python -m kiln` with a cache of its own and no inherited pip/uv/kiln settings."""
    cache = tmp_path_factory.mktemp("kiln-cache")

    def run(
        *args: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PIP_", "UV_", "KILN_")) and k != "VIRTUAL_ENV"
        }
        full_env["KILN_CACHE_DIR"] = str(cache)
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "kiln", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kiln {' '.join(args)} exited {done.returncode}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
        return done

    return run
