"""Differential: on the seed's projects, every platform gets from kiln's lock exactly what it
gets from uv's (uv's lock exported as PEP 751), both read by `packaging.pylock`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import tomllib
from packaging.pylock import Pylock

from kiln.python.platforms import DEFAULT_PLATFORMS, platform_environment
from tests.integration.test_lock_scenarios import S1, S2, S3, S4, project
from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for
from tests.support.uv import uv_command

PY312 = str(interpreter_for("3.12") or "")


UV = uv_command()
pytestmark = pytest.mark.skipif(UV is None or not PY312, reason="needs uv and CPython 3.12")


def uv_pylock(root: Path, server: IndexServer, tmp_path: Path) -> Path:
    assert UV is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(
        UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_PYTHON_DOWNLOADS="never", UV_PYTHON=PY312
    )
    index = ["--default-index", server.index_url("pypi")]
    for args in (
        ["lock", *index],
        ["export", "--format", "pylock.toml", "-o", "pylock.uv.toml", "--all-extras", *index],
    ):
        done = subprocess.run([*UV, *args], cwd=root, env=env, capture_output=True, text=True)
        if done.returncode != 0 and args[0] == "export" and "--all-extras" in args:
            # conflicting extras cannot all be exported at once; export without them
            args = [a for a in args if a != "--all-extras"]
            done = subprocess.run([*UV, *args], cwd=root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return root / "pylock.uv.toml"


def selections(path: Path, extras: frozenset[str]) -> dict[str, set[tuple[str, str]]]:
    lock = Pylock.from_dict(tomllib.loads(path.read_text()))
    out: dict[str, set[tuple[str, str]]] = {}
    for platform in DEFAULT_PLATFORMS:
        env = platform_environment(platform, (3, 12))
        try:
            chosen = lock.select(
                environment=dict(env.markers),  # type: ignore[arg-type]
                tags=list(env.tags),
                extras=extras,
                dependency_groups=frozenset(),
            )
            out[platform.key] = {(str(p.name), str(p.version)) for p, _ in chosen}
        except Exception as exc:
            out[platform.key] = {("<error>", type(exc).__name__)}
    return out


@pytest.mark.parametrize(
    ("name", "text", "extra_sets"),
    [
        ("s1", S1, [frozenset()]),
        ("s2", S2, [frozenset()]),
        ("s3", S3, [frozenset()]),
        ("s4", S4, [frozenset({"cpu"}), frozenset({"cu124"})]),
    ],
)
def test_kiln_and_uv_locks_install_the_same_sets(
    kiln,
    torch_server: IndexServer,
    tmp_path: Path,
    name: str,
    text: str,
    extra_sets: list[frozenset[str]],
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, text, torch_server)
    kiln(
        "lock",
        "--project",
        str(root),
        "--default-index",
        torch_server.index_url("pypi"),
        check=True,
    )
    theirs = uv_pylock(root, torch_server, tmp_path)
    for extras in extra_sets:
        ours_by_platform = selections(root / "pylock.toml", extras)
        theirs_by_platform = selections(theirs, extras)
        for platform, ours in ours_by_platform.items():
            if any(n == "<error>" for n, _ in theirs_by_platform[platform]):
                continue  # uv's lock cannot install there either; kiln says why at sync
            assert ours == theirs_by_platform[platform], (name, platform, sorted(extras))
