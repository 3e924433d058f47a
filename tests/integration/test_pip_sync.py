"""`kiln pip sync`: the environment holds exactly what the requirements files list."""

from __future__ import annotations

from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions


def test_sync_installs_the_listed_set_and_removes_the_rest(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", "3.12", check=True)
    index = ["--default-index", torch_server.index_url("pypi")]
    kiln("pip", "install", "fsspec", "filelock", "--python", str(venv), *index, check=True)
    listed = tmp_path / "requirements.txt"
    # torch's own dependencies are not listed: sync installs what the file says, no more.
    listed.write_text("filelock==3.16.1\ntorch==2.5.1\n")
    env = {"KILN_TORCH_INDEX_URL": f"{torch_server.url}/whl"}
    done = kiln(
        "pip", "sync", str(listed), "--torch-backend", "cpu", "--python", str(venv), *index,
        env=env, check=True,
    )  # fmt: skip
    assert installed_versions(venv) == {"filelock": "3.16.1", "torch": "2.5.1+cpu"}
    assert "- fsspec==2024.10.0" in done.stderr

    again = kiln(
        "pip", "sync", str(listed), "--torch-backend", "cpu", "--python", str(venv), *index,
        env=env,
    )  # fmt: skip
    assert again.returncode == 0 and "Audited 2 packages" in again.stderr


def test_sync_refuses_a_lock_file_and_names_the_command_that_reads_it(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\n')
    done = kiln("pip", "sync", str(lock))
    assert done.returncode == 2
    assert "is a PEP 751 lock" in done.stderr and "kiln sync" in done.stderr
