from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import InstallError
from kiln.install.installed import InstalledDist, find_installed
from kiln.install.installer import InstallOptions, install_wheel
from kiln.install.uninstall import plan_uninstall, uninstall
from kiln.install.wheel_cache import unpack_wheel

from .conftest import Venv, WheelFactory, files_under


def install(
    venv: Venv,
    cache: Cache,
    wheel_factory: WheelFactory,
    name: str,
    files: dict[str, str],
    **kw: object,
) -> InstalledDist:
    wheel = wheel_factory(name, files=files, **kw)
    return install_wheel(
        unpack_wheel(wheel.path, wheel.sha256, cache), venv.scheme, InstallOptions(venv.python)
    )


def test_uninstall_removes_exactly_the_recorded_files_and_leaves_neighbours(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    pristine = files_under(venv.root)
    install(
        venv,
        cache,
        wheel_factory,
        "neighbour",
        {"ns/neighbour/__init__.py": "", "neighbour_mod.py": ""},
    )
    with_neighbour = files_under(venv.root)
    dist = install(
        venv,
        cache,
        wheel_factory,
        "demo",
        {
            "ns/demo/__init__.py": "",
            "ns/demo/sub/deep.py": "",
            "demo-1.0.data/data/share/demo/x.txt": "",
        },
        entry_points="[console_scripts]\ndemo = ns.demo:main\n",
    )
    # bytecode written by importing the package, and a file the user added elsewhere
    assert venv.run("-c", "import ns.demo.sub.deep").returncode == 0
    (venv.scheme.purelib / "ns" / "user_notes.txt").write_text("mine\n")

    removed = uninstall(dist, venv.scheme)

    remaining = files_under(venv.root)
    assert remaining == with_neighbour | {venv.scheme.purelib / "ns" / "user_notes.txt"}
    assert venv.root / "bin" / "demo" in set(removed)
    assert not (venv.scheme.purelib / "ns" / "demo").exists()  # empty folders pruned
    assert not (venv.root / "share").exists()
    assert (venv.scheme.purelib / "ns" / "neighbour" / "__init__.py").exists()
    assert venv.scheme.purelib.is_dir() and (venv.root / "bin").is_dir()
    assert find_installed([venv.scheme.purelib], "demo") is None
    assert not any(p.name.startswith(".kiln-uninstall-") for p in venv.scheme.purelib.iterdir())
    assert pristine <= remaining


def test_record_paths_outside_the_environment_are_refused(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, tmp_path: Path
) -> None:
    dist = install(venv, cache, wheel_factory, "demo", {"demo/__init__.py": ""})
    outside = tmp_path / "precious.txt"
    outside.write_text("do not delete\n")
    record = dist.dist_info / "RECORD"
    rel = os.path.relpath(outside, venv.scheme.purelib)
    record.write_text(record.read_text() + f"{rel},,\n")

    plan = plan_uninstall(dist, venv.scheme)
    assert outside in plan.refused
    uninstall(dist, venv.scheme)
    assert outside.read_text() == "do not delete\n"
    assert not (venv.scheme.purelib / "demo").exists()


def test_dist_without_record_cannot_be_uninstalled(venv: Venv) -> None:
    info = venv.scheme.purelib / "legacy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: legacy\nVersion: 1.0\n")
    dist = find_installed([venv.scheme.purelib], "legacy")
    assert dist is not None
    with pytest.raises(InstallError) as raised:
        uninstall(dist, venv.scheme)
    assert "no RECORD" in raised.value.message
    assert raised.value.hint is not None and "remove it with that tool" in raised.value.hint
    assert (info / "METADATA").exists()


def test_failure_midway_puts_every_file_back(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = install(
        venv, cache, wheel_factory, "demo", {f"demo/m{i}.py": f"N = {i}\n" for i in range(10)}
    )
    before = {p: p.read_bytes() for p in files_under(venv.root)}
    real_rename = os.rename
    calls = {"n": 0}

    def flaky_rename(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise PermissionError(13, "Permission denied", str(src))
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", flaky_rename)
    with pytest.raises(InstallError, match=re.escape("cannot uninstall demo==1.0")):
        uninstall(dist, venv.scheme)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in files_under(venv.root)} == before


def test_bytecode_of_removed_modules_goes_with_them(
    venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    dist = install(venv, cache, wheel_factory, "demo", {"demo/__init__.py": "", "demo_top.py": ""})
    stray = venv.scheme.purelib / "__pycache__" / "someone_else.cpython-312.pyc"
    assert venv.run("-c", "import demo, demo_top").returncode == 0
    stray.write_bytes(b"")
    uninstall(dist, venv.scheme)
    assert not list((venv.scheme.purelib / "__pycache__").glob("demo_top.*"))
    assert stray.exists()
    assert not (venv.scheme.purelib / "demo").exists()
