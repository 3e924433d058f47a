"""`kiln venv` and `kiln pip ...` end to end: the real CLI against the local test index."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_py(venv: Path, code: str) -> str:
    done = subprocess.run(
        [str(python_of(venv)), "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def dist_infos(venv: Path) -> dict[str, str]:
    """name -> version of everything installed, read straight from the dist-info folders."""
    return installed_versions(venv)


@pytest.fixture
def venv(kiln, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", PY312, check=True)
    return path


def test_s5_torch_cpu_builds_from_the_pytorch_index(
    kiln, torch_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    done = kiln(
        "pip", "install", "torch", "torchvision", "torchaudio",
        "--index-url", torch_server.index_url("whl/cpu"), "--python", str(venv),
        check=True,
    )  # fmt: skip
    installed = dist_infos(venv)
    assert installed["torch"] == "2.5.1+cpu"
    assert installed["torchvision"] == "0.20.1+cpu"
    assert installed["torchaudio"] == "2.5.1+cpu"
    assert not any(name.startswith("nvidia") for name in installed)
    assert run_py(venv, "import torch; print(torch.__version__)") == "2.5.1+cpu"
    assert "+ torch==2.5.1+cpu" in done.stderr


def test_exact_local_pin_and_plain_pin_both_take_the_cpu_build(
    kiln, torch_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    url = torch_server.index_url("whl/cpu")
    kiln("pip", "install", "torch==2.5.1", "--index-url", url, "--python", str(venv), check=True)
    assert dist_infos(venv)["torch"] == "2.5.1+cpu"
    again = kiln(
        "pip", "install", "torch==2.5.1+cpu", "--index-url", url, "--python", str(venv), check=True
    )
    assert "Audited" in again.stderr


def test_pypi_torch_on_linux_pulls_nvidia_packages(
    kiln, torch_server: IndexServer, venv: Path
) -> None:  # type: ignore[no-untyped-def]
    kiln(
        "pip",
        "install",
        "torch==2.5.1",
        "--index-url",
        torch_server.index_url("pypi"),
        "--python",
        str(venv),
        check=True,
    )
    installed = dist_infos(venv)
    assert installed["torch"] == "2.5.1"
    assert any(name.startswith("nvidia-") for name in installed)


def test_venv_is_shared_with_pip_both_ways(kiln, index_server: IndexServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("alpha", "1.0"), Pkg("beta", "2.0"))
    venv = tmp_path / "seeded"
    kiln("venv", str(venv), "--python", PY312, "--seed", check=True)
    kiln(
        "pip",
        "install",
        "alpha",
        "--index-url",
        index_server.index_url(),
        "--python",
        str(venv),
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env["PIP_CONFIG_FILE"] = os.devnull
    pip_list = subprocess.run(
        [str(python_of(venv)), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    assert {"name": "alpha", "version": "1.0"} in json.loads(pip_list.stdout)
    subprocess.run(
        [str(python_of(venv)), "-m", "pip", "install", "--disable-pip-version-check",
         "--index-url", index_server.index_url(), "beta"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    listed = kiln("pip", "list", "--format", "json", "--python", str(venv), check=True)
    names = {row["name"].lower(): row["version"] for row in json.loads(listed.stdout)}
    assert names["beta"] == "2.0" and names["alpha"] == "1.0"
    shown = kiln("pip", "show", "alpha", "--python", str(venv), check=True)
    assert "Installer: kiln" in shown.stdout


def test_console_scripts_and_uninstall(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg(
            "greeter",
            "1.0",
            files={"greeter/__init__.py": "def main():\n    print('hello from greeter')\n"},
            entry_points={"greet": "greeter:main"},
        )
    )
    kiln(
        "pip",
        "install",
        "greeter",
        "--index-url",
        index_server.index_url(),
        "--python",
        str(venv),
        check=True,
    )
    script = venv / "bin" / "greet"
    out = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "hello from greeter"
    kiln("pip", "uninstall", "greeter", "--python", str(venv), check=True)
    assert not script.exists()
    assert "greeter" not in dist_infos(venv)
    assert not (venv / "lib" / "python3.12" / "site-packages" / "greeter").exists()


def test_requirements_and_constraints_files(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("app", "1.0", requires_dist=["lib"]), Pkg("lib", "1.0"), Pkg("lib", "2.0"))
    req = tmp_path / "requirements.txt"
    req.write_text(f"--index-url {index_server.index_url()}\napp\n")
    cons = tmp_path / "constraints.txt"
    cons.write_text("lib<2\n")
    kiln("pip", "install", "-r", str(req), "-c", str(cons), "--python", str(venv), check=True)
    assert dist_infos(venv) == {"app": "1.0", "lib": "1.0"}


def test_find_links_directory_without_an_index(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("flatpkg", "0.3"), index="flat")
    kiln(
        "pip", "install", "flatpkg", "--no-index", "--find-links", str(index_server.flat_dir("flat")),
        "--python", str(venv), check=True,
    )  # fmt: skip
    assert dist_infos(venv) == {"flatpkg": "0.3"}


def test_upgrade_replaces_the_old_version(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("mover", "1.0"))
    url = index_server.index_url()
    kiln("pip", "install", "mover", "--index-url", url, "--python", str(venv), check=True)
    index_server.add(Pkg("mover", "2.0"))
    kept = kiln(
        "pip",
        "install",
        "mover",
        "--index-url",
        url,
        "--python",
        str(venv),
        "--refresh",
        check=False,
    )
    if kept.returncode != 0:  # --refresh arrives with the HTTP cache; plain re-run is enough here
        kiln("pip", "install", "mover", "--index-url", url, "--python", str(venv), check=True)
    assert dist_infos(venv) == {"mover": "1.0"}, "an installed version that satisfies is kept"
    done = kiln(
        "pip",
        "install",
        "-U",
        "mover",
        "--index-url",
        url,
        "--python",
        str(venv),
        "--no-cache",
        check=True,
    )
    assert dist_infos(venv) == {"mover": "2.0"}
    assert "- mover==1.0" in done.stderr and "+ mover==2.0" in done.stderr


# -- errors: clear message, non-zero exit, environment untouched ------------------------


def assert_untouched(venv: Path, before: dict[str, str]) -> None:
    assert dist_infos(venv) == before


def test_unknown_package(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    before = dist_infos(venv)
    done = kiln(
        "pip",
        "install",
        "no-such-thing",
        "--index-url",
        index_server.index_url(),
        "--python",
        str(venv),
    )
    assert done.returncode != 0
    assert "error: package `no-such-thing` was not found" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
    assert_untouched(venv, before)


def test_no_version_matches(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("oldie", "1.0"), Pkg("oldie", "1.1"))
    done = kiln(
        "pip", "install", "oldie>=3", "--index-url", index_server.index_url(), "--python", str(venv)
    )
    assert done.returncode != 0
    assert "no version of `oldie` matches `oldie>=3`" in done.stderr
    assert "1.1, 1.0" in done.stderr
    assert dist_infos(venv) == {}


def test_no_wheel_fits_this_interpreter(kiln, index_server: IndexServer, venv: Path) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg("winonly", "1.0", tags=["cp312-cp312-win_amd64", "cp311-cp311-macosx_11_0_arm64"])
    )
    done = kiln(
        "pip", "install", "winonly", "--index-url", index_server.index_url(), "--python", str(venv)
    )
    assert done.returncode != 0
    assert "CPython 3.12 on linux" in done.stderr
    assert "cp312-win_amd64" in done.stderr and "cp311-macosx_11_0_arm64" in done.stderr
    assert dist_infos(venv) == {}


def test_index_unreachable(kiln, venv: Path) -> None:  # type: ignore[no-untyped-def]
    done = kiln(
        "pip", "install", "anything", "--index-url", "http://127.0.0.1:9/simple", "--python", str(venv),
        env={"KILN_HTTP_RETRIES": "0"},
    )  # fmt: skip
    assert done.returncode != 0
    assert "127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr
    assert dist_infos(venv) == {}


def test_hash_mismatch_leaves_env_and_cache_clean(
    kiln, index_server: IndexServer, venv: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("good", "1.0"), Pkg("tampered", "1.0", requires_dist=["good"]))
    index_server.tamper("tampered")
    cache = tmp_path / "cache"
    done = kiln(
        "pip", "install", "tampered", "--index-url", index_server.index_url(), "--python", str(venv),
        env={"KILN_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert done.returncode != 0
    assert "hash" in done.stderr.lower() and "tampered" in done.stderr
    assert dist_infos(venv) == {}
    wheels = cache / "wheels-v1"
    assert not wheels.exists() or not any(
        p.name.startswith("tampered") for p in wheels.rglob("*.dist-info")
    )
