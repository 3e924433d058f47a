"""`kiln torch init` and `kiln torch doctor` through the real CLI, against the local
PyPI + download.pytorch.org server, with machines presented through the accel overrides."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.lock.pylock_toml import load_lock
from kiln.lock.select import select
from kiln.python.platforms import (
    LINUX_X86_64,
    MACOS_ARM64,
    WINDOWS_AMD64,
    Platform,
    platform_environment,
)
from tests.support.index_server import IndexServer
from tests.support.pythons import interpreter_for
from tests.support.uv import uv_command
from tests.support.venvs import installed_versions, python_of

PY312 = interpreter_for("3.12")

PROJECT = """\
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [
  "torch>=2.5.1",  # the one that matters
  "torchvision>=0.20.1",
]

[[tool.uv.index]]
name = "pypi"
url = "{pypi}"
default = true
"""

# A Linux x86_64 machine whatever runs the tests; each test adds its GPU.
LINUX = {"KILN_ACCEL_SYSTEM": "linux", "KILN_ACCEL_MACHINE": "x86_64"}
NO_GPU = {**LINUX, "KILN_ACCELERATOR": "none"}
RTX_3090 = {**LINUX, "KILN_CUDA_DRIVER_VERSION": "550.54.14", "KILN_GPU_COMPUTE_CAPABILITY": "8.6"}
OLD_DRIVER = {
    **LINUX,
    "KILN_CUDA_DRIVER_VERSION": "470.82.01",
    "KILN_GPU_COMPUTE_CAPABILITY": "8.6",
}


def make_project(tmp_path: Path, server: IndexServer) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT.format(pypi=server.index_url("pypi")))
    return root


def torch_init(kiln, root: Path, server: IndexServer, *args: str):  # type: ignore[no-untyped-def]
    return kiln(
        "torch",
        "init",
        "--project",
        str(root),
        "--torch-index-url",
        server.url + "/whl",
        *args,
    )


def locked_builds(kiln, root: Path, platform: Platform, extras: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    path = root / "pylock.toml"
    if not path.exists():
        kiln("lock", "--project", str(root), check=True)
    lock = load_lock(path.read_text(), path)
    env = platform_environment(platform, (3, 12))
    chosen = select(lock, env, extras=extras, groups=frozenset())
    return {s.package.name: str(s.package.version) for s in chosen}


def uv_lock(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_")) and k != "VIRTUAL_ENV"
    }
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "uv-config"),
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
    )
    if PY312 is not None:
        env["UV_PYTHON"] = str(PY312)
    # The lock goes to its own folder so it cannot be confused with kiln's.
    shutil.copytree(root, tmp_path / "uv-project", ignore=shutil.ignore_patterns("pylock.toml"))
    return subprocess.run(
        [*uv, "lock"], cwd=tmp_path / "uv-project", env=env, capture_output=True, text=True
    )


# --- torch init -------------------------------------------------------------------------------


def test_init_platform_mode_locks_each_platform_from_its_index(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, torch_server)
    done = torch_init(kiln, root, torch_server, "--backends", "cpu,cu124")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {root / 'pyproject.toml'}" in done.stderr
    text = (root / "pyproject.toml").read_text()
    assert '"torch>=2.5.1",  # the one that matters' in text
    assert f'url = "{torch_server.url}/whl/cu124"' in text

    linux = locked_builds(kiln, root, LINUX_X86_64)
    assert linux["torch"] == "2.5.1+cu124"
    assert linux["torchvision"] == "0.20.1+cu124"
    assert any(name.startswith("nvidia-") for name in linux)
    assert locked_builds(kiln, root, WINDOWS_AMD64)["torch"] == "2.5.1+cpu"
    assert locked_builds(kiln, root, MACOS_ARM64)["torch"] == "2.5.1"

    done = uv_lock(root, tmp_path)
    assert done.returncode == 0, done.stderr


def test_init_extras_mode_locks_one_build_per_extra(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, torch_server)
    done = torch_init(kiln, root, torch_server, "--backends", "cpu,cu124", "--mode", "extras")
    assert done.returncode == 0, done.stderr
    cpu, cu124 = frozenset({"cpu"}), frozenset({"cu124"})
    assert locked_builds(kiln, root, LINUX_X86_64, cpu)["torch"] == "2.5.1+cpu"
    assert locked_builds(kiln, root, LINUX_X86_64, cu124)["torch"] == "2.5.1+cu124"
    assert locked_builds(kiln, root, WINDOWS_AMD64, cu124)["torch"] == "2.5.1+cu124"
    # macOS takes PyPI's CPU build whichever extra is chosen.
    assert locked_builds(kiln, root, MACOS_ARM64, cu124)["torch"] == "2.5.1"
    assert "torch" not in locked_builds(kiln, root, LINUX_X86_64)

    both = kiln("sync", "--project", str(root), "--extra", "cpu", "--extra", "cu124")
    assert both.returncode != 0 and "cannot be installed together" in both.stderr

    done = uv_lock(root, tmp_path)
    assert done.returncode == 0, done.stderr


def test_init_refusals_leave_the_file_untouched(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, torch_server)
    pyproject = root / "pyproject.toml"
    pyproject.chmod(0o640)
    before = pyproject.read_bytes()

    unknown = torch_init(kiln, root, torch_server, "--backends", "cpu,cu999")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown torch backend `cu999`; valid: ")
    assert "cu124" in unknown.stderr and "Traceback" not in unknown.stderr

    clash = torch_init(kiln, root, torch_server, "--backends", "cu124,rocm6.2")
    assert clash.returncode == 2
    assert "both build for Linux" in clash.stderr and "--mode extras" in clash.stderr
    assert pyproject.read_bytes() == before

    assert torch_init(kiln, root, torch_server, "--backends", "cpu").returncode == 0
    written = pyproject.read_bytes()
    assert pyproject.stat().st_mode & 0o777 == 0o640

    again = torch_init(kiln, root, torch_server, "--backends", "cpu,cu124")
    assert again.returncode == 2
    assert "index `pytorch-cpu`" in again.stderr and "--force" in again.stderr
    assert pyproject.read_bytes() == written

    forced = torch_init(kiln, root, torch_server, "--backends", "cpu,cu124", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "replaced index `pytorch-cpu`" in forced.stderr
    assert "pytorch-cu124" in pyproject.read_text()


def test_init_takes_the_index_base_from_the_environment(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, torch_server)
    done = kiln(
        "torch",
        "init",
        "--backends",
        "cpu",
        cwd=root,
        env={"KILN_TORCH_INDEX_URL": "http://mirror.example/whl/"},
    )
    assert done.returncode == 0, done.stderr
    assert 'url = "http://mirror.example/whl/cpu"' in (root / "pyproject.toml").read_text()


# --- torch doctor -----------------------------------------------------------------------------


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", sys.executable, check=True)
    return path


def install_torch(kiln, venv: Path, server: IndexServer, build: str = "cu124") -> None:  # type: ignore[no-untyped-def]
    kiln(
        "pip",
        "install",
        "--python",
        str(python_of(venv)),
        f"torch==2.5.1+{build}",
        "--index-url",
        server.index_url(f"whl/{build}"),
        "--no-deps",
        check=True,
    )
    assert installed_versions(venv)["torch"] == f"2.5.1+{build}"


def doctor(kiln, tmp_path: Path, machine: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    done = kiln("torch", "doctor", *args, cwd=tmp_path, env=machine)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def test_doctor_a_cuda_build_without_a_gpu_names_cpu(
    kiln, torch_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    install_torch(kiln, venv, torch_server)
    done = doctor(kiln, tmp_path, NO_GPU, "--python", str(python_of(venv)))
    assert done.returncode == 1, done.stdout
    out = done.stdout
    assert "accelerators: ignored (KILN_ACCELERATOR=none)" in out
    assert "torch: 2.5.1+cu124 (backend cu124" in out
    assert "verdict: torch 2.5.1+cu124 does not fit this machine" in out
    assert (
        f"kiln pip install --python {python_of(venv)} --torch-backend cpu --reinstall torch" in out
    )
    # The synthetic torch imports, but is no real torch: a finding, not a crash.
    assert "import torch: torch 2.5.1+cu124" in out
    assert "failed: AttributeError" in out


def test_doctor_a_cuda_build_on_a_fitting_gpu_passes(
    kiln, torch_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    install_torch(kiln, venv, torch_server)
    done = doctor(kiln, tmp_path, RTX_3090, "--python", str(python_of(venv)))
    assert done.returncode == 0, done.stdout
    assert "GPU 0: NVIDIA GPU (compute capability 8.6)" in done.stdout
    assert "fits: yes" in done.stdout
    assert "verdict: torch 2.5.1+cu124 fits this machine" in done.stdout


def test_doctor_a_driver_too_old_for_the_build_fails(
    kiln, torch_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    install_torch(kiln, venv, torch_server)
    done = doctor(kiln, tmp_path, OLD_DRIVER, "--python", str(python_of(venv)))
    assert done.returncode == 1, done.stdout
    assert "fits: no:" in done.stdout and "driver" in done.stdout
    assert "--torch-backend cu118" in done.stdout


def test_doctor_without_torch_says_how_to_install_it(kiln, venv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = doctor(kiln, tmp_path, RTX_3090, "--python", str(python_of(venv)))
    assert done.returncode == 1
    assert "verdict: torch is not installed" in done.stdout
    assert "--torch-backend cu" in done.stdout and "--reinstall" not in done.stdout


def test_doctor_reads_the_projects_venv_and_suggests_sync(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, torch_server)
    kiln("venv", str(root / ".venv"), "--python", sys.executable, check=True)
    install_torch(kiln, root / ".venv", torch_server, build="cpu")
    done = doctor(kiln, tmp_path, RTX_3090, "--project", str(root))
    assert done.returncode == 0, done.stdout
    assert "environment (the project's .venv)" in done.stdout
    assert "torch: 2.5.1+cpu (backend cpu" in done.stdout
    assert "the best build here is `cu" in done.stdout
    assert "kiln sync --torch-backend cu" in done.stdout


def test_doctor_reports_a_broken_interpreter(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    done = doctor(kiln, tmp_path, NO_GPU, "--python", str(broken))
    assert done.returncode == 1
    assert "cannot be inspected" in done.stdout
    assert "verdict: cannot tell which torch build is installed" in done.stdout
