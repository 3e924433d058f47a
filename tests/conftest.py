"""Fixtures shared by every test: a local package index over HTTP and the `kiln` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.torch_world import add_torch_world

KilnRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A fresh, empty index on 127.0.0.1 for one test."""
    server = IndexServer(tmp_path_factory.mktemp("index"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def torch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """PyPI and the PyTorch indexes in miniature (see `tests.support.torch_world`), built once."""
    server = IndexServer(tmp_path_factory.mktemp("torch-index"))
    add_torch_world(server)
    try:
        yield server
    finally:
        server.stop()


def kiln_env(cache: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `kiln` runs in: nothing inherited that could point it elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "KILN_")) and key != "VIRTUAL_ENV"
    }
    # User and system config files (kiln.toml, uv.toml) come from folders of the test's own,
    # never from this machine's ~/.config or /etc.
    config = cache.parent / "config-dirs"
    env.update(
        KILN_CACHE_DIR=str(cache),
        PIP_CONFIG_FILE=os.devnull,
        NO_COLOR="1",
        XDG_CONFIG_HOME=str(config / "user"),
        XDG_CONFIG_DIRS=str(config / "system"),
    )
    env.update(extra or {})
    return env


@pytest.fixture
def kiln(tmp_path: Path) -> KilnRunner:
    """Run `python -m kiln ARGS` with a cache of this test's own; `check=True` raises on failure."""
    cache = tmp_path / "kiln-cache"

    def run(
        *args: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "kiln", *args],
            cwd=cwd,
            env=kiln_env(cache, env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kiln {' '.join(args)} exited {done.returncode}\n"
                f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}"
            )
        return done

    return run
