"""pip must see kiln's installs as its own would be, and the other way round."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kiln.cache.layout import Cache
from kiln.install.installed import find_installed, installed_distributions
from kiln.install.installer import InstallOptions, install_wheel
from kiln.install.record import read_record
from kiln.install.uninstall import uninstall
from kiln.install.wheel_cache import unpack_wheel

from .conftest import Venv, WheelFactory

FILES = {
    "interop/__init__.py": "VALUE = 42\n",
    "interop/sub/mod.py": "",
    "interop-1.0.data/scripts/interop-tool": "#!python\nprint('tool')\n",
    "interop-1.0.data/data/share/interop/notes.txt": "notes\n",
}
ENTRY_POINTS = "[console_scripts]\ninterop = interop:main\n"


def recorded_paths(dist_info: Path) -> list[Path]:
    site = dist_info.parent
    return [Path(os.path.normpath(site / e.path)) for e in read_record(dist_info / "RECORD")]


def test_pip_lists_and_cleanly_uninstalls_what_kiln_installed(
    pip_venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory("interop", files=FILES, entry_points=ENTRY_POINTS)
    folder = unpack_wheel(wheel.path, wheel.sha256, cache)
    dist = install_wheel(folder, pip_venv.scheme, InstallOptions(pip_venv.python))
    paths = recorded_paths(dist.dist_info)
    assert all(p.exists() for p in paths)

    listed = pip_venv.run("-m", "pip", "list", "--format=json", "-v")
    assert listed.returncode == 0, listed.stderr
    entry = {d["name"]: d for d in json.loads(listed.stdout)}["interop"]
    assert (entry["version"], entry["installer"]) == ("1.0", "kiln")
    check = pip_venv.run("-m", "pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr

    removed = pip_venv.run("-m", "pip", "uninstall", "-y", "interop")
    assert removed.returncode == 0, removed.stderr
    assert [p for p in paths if os.path.lexists(p)] == []
    assert not (pip_venv.scheme.purelib / "interop").exists()
    assert not (pip_venv.root / "share" / "interop").exists()
    # The cache entry the environment was linked from is intact.
    assert (folder / "interop" / "__init__.py").read_text() == "VALUE = 42\n"


def test_kiln_lists_and_uninstalls_what_pip_installed(
    pip_venv: Venv, cache: Cache, wheel_factory: WheelFactory
) -> None:
    wheel = wheel_factory(
        "pipmade",
        files={"pipmade/__init__.py": "", "pipmade/x.py": ""},
        entry_points="[console_scripts]\npipmade = pipmade:main\n",
    )
    done = pip_venv.run("-m", "pip", "install", "--no-index", str(wheel.path))
    assert done.returncode == 0, done.stderr

    dists = installed_distributions(pip_venv.scheme.purelib)
    assert [d.name for d in dists] == sorted(d.name for d in dists)
    pip_dist = find_installed([pip_venv.scheme.purelib], "pipmade")
    assert pip_dist is not None
    assert (pip_dist.installer, pip_dist.requested, str(pip_dist.version)) == ("pip", True, "1.0")
    assert pip_dist.metadata().summary == "pipmade for tests"
    assert find_installed([pip_venv.scheme.purelib], "pip") is not None

    paths = recorded_paths(pip_dist.dist_info)
    assert any(p.suffix == ".pyc" for p in paths)  # pip compiled and recorded bytecode
    uninstall(pip_dist, pip_venv.scheme)
    assert [p for p in paths if os.path.lexists(p)] == []
    assert not (pip_venv.scheme.purelib / "pipmade").exists()
    assert find_installed([pip_venv.scheme.purelib], "pipmade") is None
    still = pip_venv.run("-m", "pip", "--version")
    assert still.returncode == 0, still.stderr
