"""`kiln sync` from one lock: the slice for this machine and the chosen extras, exactly."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.test_lock_scenarios import S2, S3, S4, project
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions


def installed(root: Path) -> dict[str, str]:
    return installed_versions(root / ".venv")


def sync(kiln, root: Path, server: IndexServer, *args: str, check: bool = True):  # type: ignore[no-untyped-def]
    return kiln(
        "sync", "--project", str(root), "--default-index", server.index_url("pypi"),
        "--python", "3.12", *args, check=check,
    )  # fmt: skip


def test_s4_switching_extras_swaps_the_torch_build(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    sync(kiln, root, torch_server, "--extra", "cpu")
    got = installed(root)
    assert got["torch"] == "2.5.1+cpu"
    assert not any(n.startswith("nvidia-") for n in got)
    lock_text = (root / "pylock.toml").read_text()

    sync(kiln, root, torch_server, "--extra", "cu124")
    got = installed(root)
    assert got["torch"] == "2.5.1+cu124"
    assert any(n.startswith("nvidia-") for n in got)
    assert (root / "pylock.toml").read_text() == lock_text, "one lock serves both extras"

    sync(kiln, root, torch_server)
    assert "torch" not in installed(root), "exact sync removes what the selection does not need"


def test_s4_both_conflicting_extras_is_a_clear_error(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    done = sync(kiln, root, torch_server, "--extra", "cpu", "--extra", "cu124", check=False)
    assert done.returncode != 0
    assert "extra `cpu` and extra `cu124` cannot be installed together" in done.stderr
    assert "tool.uv.conflicts" in done.stderr
    assert "Traceback" not in done.stderr


def test_s2_sync_then_locked_and_frozen(kiln, torch_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S2, torch_server)
    sync(kiln, root, torch_server)
    assert installed(root)["torch"] == "2.5.1+cpu"
    again = sync(kiln, root, torch_server, "--locked")
    assert "Audited" in again.stderr
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"jinja2"', '"jinja2", "filelock"'))
    stale = sync(kiln, root, torch_server, "--locked", check=False)
    assert stale.returncode != 0 and "out of date" in stale.stderr
    frozen = sync(kiln, root, torch_server, "--frozen")
    assert frozen.returncode == 0
    assert "filelock" in installed(root)  # torch needs it anyway; the lock was trusted as is


def test_uv_installs_the_same_set_from_kilns_lock(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import os
    import shutil
    import sys

    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        import pytest

        pytest.skip("uv is not installed")
    for text, extras in ((S2, ()), (S4, ("cpu",)), (S4, ("cu124",))):
        root = project(tmp_path / f"{len(extras)}{''.join(extras)}", text, torch_server)
        sync(kiln, root, torch_server, *(a for e in extras for a in ("--extra", e)))
        other = tmp_path / f"uv-{''.join(extras)}"
        kiln("venv", str(other), "--python", "3.12", check=True)
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))
        }
        env.update(UV_NO_CONFIG="1", UV_CACHE_DIR=str(tmp_path / "uv-cache"))
        command = [uv, "pip", "install", "-r", str(root / "pylock.toml"), "--python", str(other)]
        command += [a for e in extras for a in ("--extra", e)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert installed_versions(other) == installed(root), extras


def test_a_sync_that_fails_midway_leaves_the_previous_environment_working(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S4, torch_server)
    sync(kiln, root, torch_server, "--extra", "cpu")
    kiln(
        "lock",
        "--project",
        str(root),
        "--default-index",
        torch_server.index_url("pypi"),
        check=True,
    )
    before = installed(root)
    torch_server.fail_next(10_000)  # every request from now on fails: downloads die mid-sync
    try:
        done = kiln(
            "sync", "--project", str(root), "--default-index", torch_server.index_url("pypi"),
            "--python", "3.12", "--extra", "cu124", env={"KILN_HTTP_RETRIES": "0"},
        )  # fmt: skip
    finally:
        torch_server.clear_failures()
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert installed(root) == before
    check = subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert check.stdout.strip() == "2.5.1+cpu"


def test_s3_linux_gets_the_cuda_build_and_its_nvidia_packages(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, S3, torch_server)
    sync(kiln, root, torch_server)
    got = installed(root)
    assert got["torch"] == "2.5.1+cu124" and got["torchvision"] == "0.20.1+cu124"
    assert {"nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12"} <= set(got)
    done = kiln(
        "run", "--project", str(root), "--default-index", torch_server.index_url("pypi"),
        "python", "-c", "import torch; print(torch.__version__)", check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "2.5.1+cu124"


def test_an_environment_made_from_the_interpreter_passed_by_path_is_kept(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tests.support.pythons import interpreter_for

    python, other = interpreter_for("3.12"), interpreter_for("3.13")
    if python is None:
        pytest.skip("needs CPython 3.12")
    root = project(tmp_path, S4, torch_server)

    def sync_with(exe: Path, extra: str) -> str:
        return kiln(
            "sync", "--project", str(root), "--default-index", torch_server.index_url("pypi"),
            "--python", str(exe), "--extra", extra,
        ).stderr  # fmt: skip

    assert "Created virtual environment" in sync_with(python, "cpu")
    made = (root / ".venv" / "pyvenv.cfg").stat()
    switched = sync_with(python, "cu124")
    assert "Created virtual environment" not in switched
    assert installed(root)["torch"] == "2.5.1+cu124"
    kept = (root / ".venv" / "pyvenv.cfg").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    if other is not None:
        # Another interpreter by path: the environment is made again from it.
        assert "Created virtual environment" in sync_with(other, "cpu")
        assert "version = 3.13" in (root / ".venv" / "pyvenv.cfg").read_text()


def test_the_python_version_pin_is_checked_against_an_existing_environment(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tests.support.pythons import interpreter_for

    python, other = interpreter_for("3.12"), interpreter_for("3.13")
    if python is None or other is None:
        pytest.skip("needs CPython 3.12 and 3.13")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\ndependencies = []\n'
    )
    args = ["sync", "--project", str(root), "--default-index", index_server.index_url()]
    kiln(*args, "--python", str(python), check=True)
    # A pin nothing here satisfies is an error, as in uv, not a quiet use of `.venv`.
    (root / ".python-version").write_text("9.9\n")
    done = kiln(*args)
    assert done.returncode != 0 and "no python found for `9.9`" in done.stderr, done.stderr
    assert "version = 3.12" in (root / ".venv" / "pyvenv.cfg").read_text()
    # A pin another interpreter satisfies makes the environment again from it.
    (root / ".python-version").write_text("3.13\n")
    assert "Created virtual environment" in kiln(*args, check=True).stderr
    assert "version = 3.13" in (root / ".venv" / "pyvenv.cfg").read_text()
    assert "Created virtual environment" not in kiln(*args, check=True).stderr


def test_the_lock_is_checked_before_the_interpreter_is_blamed(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # The interpreter is looked for while the lock is read; what is reported stays in order.
    root = project(tmp_path, S2, torch_server)
    kiln("lock", "--project", str(root), "--default-index", torch_server.index_url("pypi"))
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"jinja2"', '"jinja2", "filelock"'))
    args = ["sync", "--project", str(root), "--default-index", torch_server.index_url("pypi")]
    stale = kiln(*args, "--locked", "--python", "3.99", check=False)
    assert stale.returncode != 0 and "out of date" in stale.stderr
    assert "3.99" not in stale.stderr
    missing = kiln(*args, "--frozen", "--python", "3.99", check=False)
    assert missing.returncode != 0 and "3.99" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not (root / ".venv" / "bin").exists()
