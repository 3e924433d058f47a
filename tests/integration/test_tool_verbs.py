"""`kiln python list/find/pin`, `kiln cache dir/clean/prune`, `kiln pip check/tree` end to end."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

_KEY = re.compile(r"^(?P<impl>cpython|pypy|graalpy)-(?P<version>\d+\.\d+\.\d+)\S*-\S+-\S+-\S+ {4,}")


def _bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", sys.executable, check=True)
    return path


@pytest.fixture
def only_venv(venv: Path, tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds one interpreter, the venv's, and no pyenv folder."""
    return {
        "PATH": str(_bin(venv)),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "CONDA_PREFIX": "",
    }


def _version_of(kiln, venv: Path) -> str:  # type: ignore[no-untyped-def]
    done = kiln("python", "find", str(_bin(venv) / "python"), "--show-version", check=True)
    return done.stdout.strip()


# -- python -----------------------------------------------------------------------------------


def test_python_list_shows_each_found_interpreter_newest_first(kiln, venv, only_venv) -> None:  # type: ignore[no-untyped-def]
    isolated = kiln("python", "list", env=only_venv, check=True)
    lines = isolated.stdout.splitlines()
    assert len(lines) == 1, lines
    assert _KEY.match(lines[0]) and str(_bin(venv)) in lines[0]

    everything = kiln("python", "list", check=True).stdout.splitlines()
    versions = []
    for line in everything:
        match = _KEY.match(line)
        assert match, line
        versions.append(tuple(int(p) for p in match.group("version").split(".")))
    assert versions == sorted(versions, reverse=True)


def test_python_find_prefers_the_pin_found_above_and_names_it_when_nothing_fits(
    kiln, venv, only_venv, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    found = kiln("python", "find", cwd=work, env=only_venv, check=True)
    assert found.stdout.strip().startswith(str(_bin(venv)))

    (work / ".python-version").write_text("3.99\n")
    missing = kiln("python", "find", cwd=work / "sub", env=only_venv)
    assert missing.returncode == 2
    assert "no python found for `3.99`" in missing.stderr
    assert ".python-version" in missing.stderr
    assert str(_bin(venv)) in missing.stderr  # what exists is listed
    assert "Traceback" not in missing.stderr

    asked = kiln("python", "find", "3.99", cwd=work, env=only_venv)
    assert asked.returncode == 2 and "no python found for `3.99`" in asked.stderr


def test_python_find_takes_the_projects_environment_when_it_fits(
    kiln, venv, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    project.mkdir()
    kiln("venv", str(project / ".venv"), "--python", sys.executable, check=True)
    found = kiln("python", "find", cwd=project, check=True)
    assert found.stdout.strip() == str(_bin(project / ".venv") / "python")
    outside = kiln("python", "find", "--system", cwd=project, check=True)
    assert not outside.stdout.strip().startswith(str(project))


def test_python_pin_writes_reads_and_validates(kiln, venv, only_venv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "pinned"
    (work / "sub").mkdir(parents=True)
    none = kiln("python", "pin", cwd=work, env=only_venv)
    assert none.returncode != 0 and "no `.python-version` file found" in none.stderr

    minor = ".".join(_version_of(kiln, venv).split(".")[:2])
    first = kiln("python", "pin", minor, cwd=work, env=only_venv, check=True)
    assert first.stdout.strip() == f"Pinned `.python-version` to `{minor}`"
    assert (work / ".python-version").read_text() == f"{minor}\n"
    assert "warning" not in first.stderr

    shown = kiln("python", "pin", cwd=work / "sub", env=only_venv, check=True)
    assert shown.stdout.strip() == minor

    changed = kiln("python", "pin", "3.99", cwd=work, env=only_venv, check=True)
    assert changed.stdout.strip() == f"Updated `.python-version` from `{minor}` -> `3.99`"
    assert "no interpreter found for CPython 3.99" in changed.stderr

    bad = kiln("python", "pin", "not-a-python", cwd=work, env=only_venv)
    assert bad.returncode == 2 and "hint:" in bad.stderr
    assert (work / ".python-version").read_text() == "3.99\n"

    (work / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.100"\n'
    )
    refused = kiln("python", "pin", minor, cwd=work, env=only_venv)
    assert refused.returncode == 2 and "requires-python" in refused.stderr
    assert (work / ".python-version").read_text() == "3.99\n"


# -- cache ------------------------------------------------------------------------------------


def test_cache_dir_follows_the_flag_and_the_variable(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert kiln("cache", "dir", check=True).stdout.strip() == str(tmp_path / "kiln-cache")
    flagged = kiln("cache", "dir", "--cache-dir", str(tmp_path / "elsewhere"), check=True)
    assert flagged.stdout.strip() == str(tmp_path / "elsewhere")


def _wheel_dirs(cache: Path) -> set[str]:
    return {
        info.name.split("-")[0]
        for info in (cache / "wheels-v1").glob("*/*.dist-info")
        if info.is_dir()
    }


def test_cache_clean_of_one_package_keeps_the_others_then_clears_all(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("alpha", "1.0"), Pkg("beta", "1.0"))
    kiln(
        "pip", "install", "alpha", "beta", "--python", str(venv),
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip
    cache = tmp_path / "kiln-cache"
    assert _wheel_dirs(cache) == {"alpha", "beta"}

    one = kiln("cache", "clean", "alpha", check=True)
    assert re.search(r"^Removed \d+ files? \(\d+(\.\d)?(B|KiB|MiB)\)$", one.stderr, re.M)
    assert _wheel_dirs(cache) == {"beta"}
    again = kiln("cache", "clean", "alpha", check=True)
    assert again.stderr.strip() == "No cache entries found"

    # beta's page and wheel are still there: an offline reinstall works from the cache alone.
    kiln("pip", "uninstall", "beta", "--python", str(venv), check=True)
    kiln(
        "pip", "install", "beta", "--python", str(venv), "--offline",
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip

    everything = kiln("cache", "clean", check=True)
    assert f"Clearing cache at: {cache}" in everything.stderr
    assert "Removed" in everything.stderr
    assert _wheel_dirs(cache) == set()
    assert "No cache entries found" in kiln("cache", "clean", check=True).stderr


def test_cache_prune_removes_only_what_nothing_can_use(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "kiln-cache"
    old_bucket = cache / "wheels-v0" / "entry"
    old_bucket.mkdir(parents=True)
    (old_bucket / "file").write_text("old layout")
    stale = cache / "tmp-v1" / "fetch-abandoned"
    stale.mkdir(parents=True)
    (stale / "half.whl").write_bytes(b"x" * 5000)
    fresh = cache / "tmp-v1" / "fetch-running"
    fresh.mkdir()
    (fresh / "part.whl").write_bytes(b"y")
    partial = cache / "metadata-v1" / ".abc.METADATA.k2j3h4.tmp"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"z")
    kept = cache / "metadata-v1" / "abc.METADATA"
    kept.write_text("Name: abc\n")
    hours_ago = time.time() - 7200
    for path in (stale / "half.whl", stale, partial):
        os.utime(path, (hours_ago, hours_ago))

    done = kiln("cache", "prune", check=True)
    assert f"Pruning cache at: {cache}" in done.stderr
    assert "Removed 3 files" in done.stderr
    assert not old_bucket.exists() and not stale.exists() and not partial.exists()
    assert fresh.is_dir() and kept.is_file()
    assert "No unused entries found" in kiln("cache", "prune", check=True).stderr


def test_cache_verbs_on_a_missing_cache_say_so(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for verb in ("clean", "prune"):
        done = kiln("cache", verb, check=True)
        assert done.stderr.strip() == f"No cache found at: {tmp_path / 'kiln-cache'}"


# -- pip check / pip tree -----------------------------------------------------------------------

_WORLD = [
    Pkg("top", "1.0", ["a", "c"]),
    Pkg("a", "1.0", ["b>=2", "c"]),
    Pkg("b", "1.0", ["d"]),
    Pkg("c", "1.0", ["b", 'd; sys_platform == "no-such-platform"']),
    Pkg("d", "1.0"),
    Pkg("e", "1.0"),
]


@pytest.fixture
def world(kiln, index_server: IndexServer, venv: Path) -> Path:  # type: ignore[no-untyped-def]
    index_server.add(*_WORLD)
    kiln(
        "pip", "install", "top", "a", "b", "c", "d", "e", "--no-deps", "--python", str(venv),
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip
    return venv


def test_pip_check_reports_an_unmet_requirement_and_exits_1(kiln, world: Path) -> None:  # type: ignore[no-untyped-def]
    done = kiln("pip", "check", "--python", str(world))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert re.fullmatch(r"Checked \d+ packages in \d+(\.\d+)?m?s", lines[1]), lines
    assert lines[2:] == [
        "Found 1 incompatibility",
        "The package `a` requires `b>=2`, but `1.0` is installed",
    ]


def test_pip_check_names_missing_requirements_and_passes_a_sound_env(kiln, world: Path) -> None:  # type: ignore[no-untyped-def]
    kiln("pip", "uninstall", "c", "--python", str(world), check=True)
    broken = kiln("pip", "check", "--python", str(world))
    assert broken.returncode == 1
    assert "Found 3 incompatibilities" in broken.stderr
    assert "The package `top` requires `c`, but it's not installed" in broken.stderr

    kiln("pip", "uninstall", "a", "top", "--python", str(world), check=True)
    sound = kiln("pip", "check", "--python", str(world))
    assert sound.returncode == 0, sound.stderr
    assert sound.stderr.splitlines()[-1] == "All installed packages are compatible"


def test_pip_tree_draws_like_uv(kiln, world: Path) -> None:  # type: ignore[no-untyped-def]
    tree = kiln("pip", "tree", "--python", str(world), check=True).stdout
    assert tree.splitlines() == [
        "e v1.0",
        "top v1.0",
        "├── a v1.0",
        "│   └── c v1.0",
        "│       └── b v1.0",
        "│           └── d v1.0",
        "└── c v1.0 (*)",
        "(*) Package tree already displayed",
    ]
    inverted = kiln("pip", "tree", "--invert", "--python", str(world), check=True).stdout
    assert inverted.splitlines() == [
        "d v1.0",
        "└── b v1.0",
        "    └── c v1.0",
        "        ├── a v1.0",
        "        │   └── top v1.0",
        "        └── top v1.0",
        "e v1.0",
    ]
    shallow = kiln("pip", "tree", "--depth", "1", "--python", str(world), check=True).stdout
    assert shallow.splitlines() == ["e v1.0", "top v1.0", "├── a v1.0", "└── c v1.0"]
    one = kiln("pip", "tree", "--package", "C", "--python", str(world), check=True).stdout
    assert one.splitlines() == ["c v1.0", "└── b v1.0", "    └── d v1.0"]
