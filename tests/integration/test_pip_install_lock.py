"""`kiln pip install -r pylock.toml`: a PEP 751 lock installed as it is, project included."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_project_install import make_project
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg


def test_a_lock_installs_what_sync_installs(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0", requires_dist=["leaf"]), Pkg("leaf", "2.0"))
    root = make_project(tmp_path)
    index = ("--default-index", index_server.index_url())
    kiln("sync", "--project", str(root), "--python", "3.12", *index, check=True)
    venv = tmp_path / "other"
    kiln("venv", str(venv), "--python", "3.12", check=True)
    done = kiln(
        "pip", "install", "-r", str(root / "pylock.toml"), "--python", str(venv), *index,
        check=True,
    )  # fmt: skip
    assert installed_versions(venv) == installed_versions(root / ".venv")
    assert installed_versions(venv) == {"mine": "0.3.0", "dep": "1.0", "leaf": "2.0"}
    assert "+ leaf==2.0" in done.stderr


def test_a_lock_does_not_mix_with_other_requirements(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "x"\npackages = []\n')
    done = kiln(
        "pip", "install", "-r", str(lock), "six", "--default-index", index_server.index_url()
    )
    assert done.returncode == 2
    assert "is a lock: it is installed on its own" in done.stderr
