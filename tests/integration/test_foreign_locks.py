"""Projects coming from uv: a `uv export` pylock.toml installs as it is, and a `uv.lock`
gives a first `kiln lock` its versions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kiln.lock.pylock_toml import FOREIGN_FINGERPRINT, load_lock
from tests.support.index_server import IndexServer
from tests.support.uv import uv_command
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

UV = uv_command()
PYENV = Path.home() / ".pyenv" / "versions"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = [{deps}]
"""


def demo(tmp_path: Path, server: IndexServer, deps: str) -> Path:
    server.add(
        Pkg("alpha", "1.0", requires_dist=["beta"]),
        Pkg("alpha", "2.0"),
        Pkg("beta", "0.5"),
    )
    root = tmp_path / "demo"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(deps=deps))
    return root


def uv(root: Path, scratch: Path, *args: str) -> None:
    assert UV is not None
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_", "KILN_")) and k != "VIRTUAL_ENV"
    }
    pythons = [str(p) for p in sorted(PYENV.glob("3.*/bin"))]
    env.update(
        UV_CACHE_DIR=str(scratch / "uv-cache"),
        XDG_CONFIG_HOME=str(scratch / "xdg"),
        UV_PYTHON_DOWNLOADS="never",
        PATH=os.pathsep.join([*pythons, env.get("PATH", "")]),
    )
    done = subprocess.run(
        [*UV, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(UV is None, reason="needs uv")
def test_sync_frozen_installs_a_uv_export(kiln, index_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = demo(tmp_path, index_server, '"alpha<2"')
    index = ("--default-index", index_server.index_url("pypi"))
    uv(root, tmp_path, "lock", *index)
    uv(root, tmp_path, "export", "--format", "pylock.toml", "-o", "pylock.toml", *index)
    exported = (root / "pylock.toml").read_text()
    assert 'created-by = "uv"' in exported and "[tool.kiln]" not in exported

    done = kiln("sync", "--frozen", "--project", str(root), "--python", "3.12", *index)
    assert done.returncode == 0, done.stderr
    assert installed_versions(root / ".venv") == {"alpha": "1.0", "beta": "0.5"}
    assert (root / "pylock.toml").read_text() == exported, "--frozen installs it as it is"

    # Without --frozen it is out of date: kiln relocks, from its versions, and says why.
    done = kiln("lock", "--project", str(root), *index, check=True)
    assert "made by `uv`, not kiln" in done.stderr
    lock = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert lock.fingerprint != FOREIGN_FINGERPRINT and lock.created_by == "kiln"
    assert {p.name: str(p.version) for p in lock.packages} == {"alpha": "1.0", "beta": "0.5"}


def test_first_lock_keeps_the_versions_of_uv_lock(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = demo(tmp_path, index_server, '"alpha"')
    # What `uv lock` wrote when only alpha 1.0 was out (uv 0.13.9's layout).
    registry = index_server.index_url("pypi")
    (root / "uv.lock").write_text(
        f"""version = 1
revision = 5
requires-python = ">=3.9"

[[package]]
name = "alpha"
version = "1.0"
source = {{ registry = "{registry}" }}
dependencies = [
    {{ name = "beta" }},
]

[[package]]
name = "beta"
version = "0.5"
source = {{ registry = "{registry}" }}

[[package]]
name = "demo"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "alpha" }},
]
"""
    )
    index = ("--default-index", registry)
    # `sync` with no pylock.toml says it locks from uv.lock's versions.
    done = kiln("sync", "--project", str(root), "--python", "3.12", *index, check=True)
    assert "reading preferences from" in done.stderr and "uv.lock" in done.stderr
    (root / "pylock.toml").unlink()
    done = kiln("lock", "--project", str(root), *index, check=True)
    assert "reading preferences from" in done.stderr and "uv.lock" in done.stderr
    lock = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert lock.fingerprint != FOREIGN_FINGERPRINT
    assert {p.name: str(p.version) for p in lock.packages} == {"alpha": "1.0", "beta": "0.5"}

    # The same project without its uv.lock takes the newest alpha.
    (root / "uv.lock").unlink()
    (root / "pylock.toml").unlink()
    done = kiln("lock", "--project", str(root), *index, check=True)
    assert "uv.lock" not in done.stderr
    lock = load_lock((root / "pylock.toml").read_text(), root / "pylock.toml")
    assert {p.name: str(p.version) for p in lock.packages} == {"alpha": "2.0"}
