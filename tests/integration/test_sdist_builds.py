"""Packages an index has only as sdists: resolved from their built metadata, built into a
wheel once, and installed by `pip install` and by `sync` from a lock that records the sdist."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.uv import uv_command, uv_install_lock
from tests.support.venvs import installed_versions, python_of
from tests.support.wheels import Pkg


def only_source(server: IndexServer) -> None:
    server.add(
        Pkg(
            "onlysrc",
            "1.0",
            requires_dist=["dep"],
            wheel=False,
            sdist=True,
            files={"onlysrc/__init__.py": "VALUE = 42\n"},
        ),
        Pkg("dep", "1.0"),
    )


def value(venv: Path) -> str:
    done = subprocess.run(
        [str(python_of(venv)), "-c", "import onlysrc; print(onlysrc.VALUE)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or done.stderr


def test_pip_install_builds_an_sdist_once_and_reuses_the_wheel(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    only_source(index_server)
    built: list[tuple[Path, int]] = []
    for name in ("first", "second"):
        venv = tmp_path / name
        kiln("venv", str(venv), "--python", "3.12", check=True)
        kiln(
            "pip", "install", "onlysrc", "--python", str(venv),
            "--default-index", index_server.index_url(), check=True,
        )  # fmt: skip
        assert installed_versions(venv) == {"onlysrc": "1.0", "dep": "1.0"}
        assert value(venv) == "42"
        wheels = sorted((tmp_path / "kiln-cache" / "builds-v1").rglob("onlysrc-*.whl"))
        built.append(
            (wheels[0], wheels[0].stat().st_mtime_ns) if len(wheels) == 1 else (Path(), -1)
        )
    assert built[0][1] != -1, "one built wheel in the cache"
    assert built[0] == built[1], "the second install reused the first build"


def test_a_lock_records_the_sdist_and_sync_builds_it(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    only_source(index_server)
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["onlysrc"]\n'
    )
    index = ("--default-index", index_server.index_url())
    kiln("sync", "--project", str(root), "--python", "3.12", *index, check=True)
    text = (root / "pylock.toml").read_text()
    entry = text.split('name = "onlysrc"', 1)[1].split("[[packages]]", 1)[0]
    assert "[packages.sdist]" in entry and "[[packages.wheels]]" not in entry
    assert value(root / ".venv") == "42"

    uv = uv_command()
    if uv is None:
        return
    # Another PEP 751 installer builds the same sdist from the same lock.
    other = tmp_path / "other"
    kiln("venv", str(other), "--python", "3.12", check=True)
    done = uv_install_lock(uv, root / "pylock.toml", other, tmp_path)
    assert done.returncode == 0, done.stderr
    assert installed_versions(other) == installed_versions(root / ".venv")
