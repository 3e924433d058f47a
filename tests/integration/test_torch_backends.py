"""`--torch-backend` and `[tool.kiln] torch-backend` end to end, on simulated machines.

The test server's PyTorch indexes hold cpu, cu118 and cu124 builds of torch 2.5.1, cu126 and
cu128 builds of 2.7.0 (whose cu128 build has no kernels for compute capability 6.1 or 7.0)
and a rocm6.2 build of 2.5.1; PyPI holds the plain 2.5.1 (CUDA on Linux).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.uv import uv_command, uv_install_lock
from tests.support.venvs import installed_versions

AUTO_PROJECT = """[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["torch>=2.5.1", "torchvision>=0.20.1"]

[tool.kiln]
torch-backend = {backend}
"""

NO_GPU = {"KILN_ACCELERATOR": "none"}


def nvidia(driver: str, *capabilities: str) -> dict[str, str]:
    machine = {"KILN_CUDA_DRIVER_VERSION": driver}
    if capabilities:
        machine["KILN_GPU_COMPUTE_CAPABILITY"] = ",".join(capabilities)
    return machine


def amd(gfx: str) -> dict[str, str]:
    return {"KILN_AMD_GPU_ARCHITECTURE": gfx}


def server_env(server: IndexServer, machine: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "KILN_DEFAULT_INDEX": server.index_url("pypi"),
        "KILN_TORCH_INDEX_URL": f"{server.url}/whl",
        **(machine or {}),
    }


def make_project(tmp_path: Path, backend: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(AUTO_PROJECT.format(backend=backend))
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_auto_lock_installs_each_machines_build_without_relocking(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, '"auto"')
    kiln("lock", cwd=root, env=server_env(torch_server), check=True)
    lock = root / "pylock.toml"
    before = digest(lock)
    text = lock.read_text()
    assert 'torch-backends = ["cpu", "cu118", "cu124", "cu126", "cu128", "rocm6.2"]' in text
    # A backend's gaps are the lock's knowledge, not failures: the machine is given another.
    assert "torch` 2.5.1+cu124 fits Linux aarch64" in text
    assert "with PyTorch backend `cu124`" in text

    expected = [
        (NO_GPU, "2.5.1+cpu", "cpu"),
        (nvidia("575.51.03", "8.6"), "2.7.0+cu128", "cu128"),
        # torch 2.7's cu128 build has no sm_61 kernels: a GTX 1080 needs the cu126 build.
        (nvidia("575.51.03", "6.1"), "2.7.0+cu126", "cu126"),
        (nvidia("470.82.01", "8.6"), "2.5.1+cu118", "cu118"),
        (amd("gfx90a"), "2.5.1+rocm6.2", "rocm6.2"),
    ]
    for machine, torch, backend in expected:
        done = kiln(
            "sync", "--python", "3.12", cwd=root, env=server_env(torch_server, machine), check=True
        )
        got = installed_versions(root / ".venv")
        assert got["torch"] == torch, (machine, done.stderr)
        assert f"Using PyTorch backend `{backend}`" in done.stderr
        assert digest(lock) == before, "moving between machines must not relock"
    kiln("lock", "--check", cwd=root, env=server_env(torch_server), check=True)


def test_a_named_backend_installs_as_asked_and_one_the_lock_lacks_is_an_error(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, '["cpu", "cu124"]')
    env = server_env(torch_server, NO_GPU)
    done = kiln("sync", "--python", "3.12", "--torch-backend", "cu124", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert installed_versions(root / ".venv")["torch"] == "2.5.1+cu124"
    assert 'torch-backends = ["cpu", "cu124"]' in (root / "pylock.toml").read_text()

    # Detection picks among the listed backends only.
    kiln("sync", "--python", "3.12", cwd=root, env=env, check=True)
    assert installed_versions(root / ".venv")["torch"] == "2.5.1+cpu"

    refused = kiln("sync", "--frozen", "--torch-backend", "cu126", cwd=root, env=env)
    assert refused.returncode != 0
    assert "the lock carries no `cu126` PyTorch build" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert installed_versions(root / ".venv")["torch"] == "2.5.1+cpu", "nothing changed"


def test_a_named_backend_without_the_requested_torch_fails_the_lock(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = make_project(tmp_path, '["cpu", "xpu"]')
    done = kiln("lock", cwd=root, env=server_env(torch_server))
    assert done.returncode != 0
    assert "the `xpu` PyTorch index has no `torch>=2.5.1`" in done.stderr
    assert not (root / "pylock.toml").exists()


def test_another_pep751_installer_gets_the_default_builds(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is not installed")
    root = make_project(tmp_path, '"auto"')
    kiln("lock", cwd=root, env=server_env(torch_server), check=True)
    venv = tmp_path / "other"
    kiln("venv", str(venv), "--python", "3.12", check=True)
    done = uv_install_lock(uv, root / "pylock.toml", venv, tmp_path)
    assert done.returncode == 0, done.stderr
    got = installed_versions(venv)
    assert got["torch"] == "2.5.1", "the region with no backend group is PyPI's build"
    assert got["torchvision"] == "0.20.1"


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", "3.12", check=True)
    return path


@pytest.mark.parametrize(
    ("machine", "torch"),
    [
        (NO_GPU, "2.5.1+cpu"),
        (nvidia("418.67"), "2.5.1+cpu"),
        (nvidia("470.82.01", "8.6"), "2.5.1+cu118"),
        (nvidia("525.60.13", "8.6"), "2.7.0+cu128"),
        (nvidia("550.54.14", "9.0"), "2.7.0+cu128"),
        (nvidia("575.51.03", "6.1"), "2.7.0+cu126"),
        (nvidia("575.51.03", "7.0"), "2.7.0+cu126"),
        (nvidia("575.51.03", "12.0"), "2.7.0+cu128"),
        # Two GPUs: the build must have kernels for both.
        (nvidia("575.51.03", "8.6", "6.1"), "2.7.0+cu126"),
        # cu130 needs 580; the test server has no cu13x index, so the newest it has wins.
        (nvidia("580.65.06", "12.0"), "2.7.0+cu128"),
        (amd("gfx90a"), "2.5.1+rocm6.2"),
        (amd("gfx1100"), "2.5.1+rocm6.2"),
        (amd("gfx803"), "2.5.1+cpu"),
    ],
)
def test_pip_install_auto_picks_the_build_by_driver_and_gpu(
    kiln, torch_server: IndexServer, venv: Path, machine: dict[str, str], torch: str
) -> None:  # type: ignore[no-untyped-def]
    done = kiln(
        "pip", "install", "torch", "--torch-backend", "auto", "--python", str(venv), "--no-deps",
        env=server_env(torch_server, machine),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert installed_versions(venv)["torch"] == torch


def test_pip_install_named_backend_pins_only_the_torch_family(
    kiln, torch_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    done = kiln(
        "pip", "install", "torch", "torchvision", "--torch-backend", "cpu",
        "--python", str(venv), env=server_env(torch_server),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = installed_versions(venv)
    assert got["torch"] == "2.5.1+cpu"
    assert got["torchvision"] == "0.20.1+cpu"
    # The CPU index carries a newer jinja2; an explicit backend index serves only the family.
    assert got["jinja2"] == "3.1.4"


def test_an_unknown_backend_is_a_one_line_error_and_installs_nothing(
    kiln, torch_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    before = installed_versions(venv)
    done = kiln(
        "pip", "install", "torch", "--torch-backend", "cu999", "--python", str(venv),
        env=server_env(torch_server),
    )  # fmt: skip
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        "error: unknown torch backend `cu999`; valid: auto, cpu, cu117, cu118"
    )
    assert installed_versions(venv) == before


def test_pip_compile_with_a_backend_takes_torch_from_its_index(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "requirements.in"
    src.write_text("torch\n")
    done = kiln(
        "pip", "compile", str(src), "--torch-backend", "cu124", "--python", "3.12",
        "--no-header", env=server_env(torch_server),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "torch==2.5.1+cu124" in done.stdout


def test_a_lock_made_for_one_backend_is_kept_by_the_next_syncs(
    kiln, torch_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(AUTO_PROJECT.split("[tool.kiln]")[0])
    env = server_env(torch_server, NO_GPU)
    kiln("sync", "--python", "3.12", "--torch-backend", "cu124", cwd=root, env=env, check=True)
    lock = root / "pylock.toml"
    before = digest(lock)
    assert installed_versions(root / ".venv")["torch"] == "2.5.1+cu124"
    # No flag now: the lock still carries what it was asked for, and stays as it is.
    done = kiln("sync", "--python", "3.12", cwd=root, env=env, check=True)
    assert digest(lock) == before, done.stderr
    assert installed_versions(root / ".venv")["torch"] == "2.5.1+cu124"
    kiln("run", "python", "-c", "pass", cwd=root, env=env, check=True)
    assert digest(lock) == before
    # `kiln lock` without the flag goes back to the project's own setting (none).
    kiln("lock", cwd=root, env=env, check=True)
    assert "torch-backends" not in lock.read_text()
