"""`kiln venv` and `kiln pip` against the real PyPI, with small pinned wheels."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user
PINS = {"six": "1.16.0", "idna": "3.7", "certifi": "2024.2.2"}

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]


def python_of(venv: Path) -> str:
    return str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def run_py(venv: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python_of(venv), "-c", code], capture_output=True, text=True)


def site_packages(venv: Path) -> Path:
    (found,) = (venv / "lib").glob("python3*/site-packages")
    return found


def install_pins(kiln: Kiln, venv: Path) -> subprocess.CompletedProcess[str]:
    pins = [f"{name}=={version}" for name, version in PINS.items()]
    return kiln("pip", "install", *pins, "--python", str(venv), check=True)


@pytest.fixture
def venv(kiln: Kiln, tmp_path: Path) -> Path:
    path = tmp_path / "venv"
    kiln("venv", str(path), "--python", PY312, check=True)
    return path


def test_pinned_wheels_from_pypi_import_and_freeze_exactly(kiln: Kiln, venv: Path) -> None:
    install_pins(kiln, venv)

    imported = run_py(
        venv,
        "import six, idna, certifi; print(six.__version__, idna.__version__, certifi.__version__)",
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == ["1.16.0", "3.7", "2024.02.02"]

    frozen = kiln("pip", "freeze", "--python", str(venv), check=True)
    assert sorted(frozen.stdout.split()) == sorted(f"{n}=={v}" for n, v in PINS.items())

    for info in site_packages(venv).glob("*.dist-info"):
        assert (info / "INSTALLER").read_text().strip() == "kiln", info.name
    assert len(list(site_packages(venv).glob("*.dist-info"))) == len(PINS)


def test_installing_the_same_pins_again_changes_nothing(kiln: Kiln, venv: Path) -> None:
    install_pins(kiln, venv)
    infos = site_packages(venv)
    before = {p.name: p.stat().st_mtime_ns for p in infos.glob("*.dist-info/RECORD")}

    again = install_pins(kiln, venv)

    assert "Audited 3 packages" in again.stderr, again.stderr
    assert "Installed" not in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in infos.glob("*.dist-info/RECORD")} == before


def test_uninstalled_package_no_longer_imports(kiln: Kiln, venv: Path) -> None:
    install_pins(kiln, venv)
    assert run_py(venv, "import six").returncode == 0

    kiln("pip", "uninstall", "six", "--python", str(venv), check=True)

    gone = run_py(venv, "import six")
    assert gone.returncode != 0
    assert "ModuleNotFoundError" in gone.stderr
    frozen = kiln("pip", "freeze", "--python", str(venv), check=True)
    assert sorted(frozen.stdout.split()) == ["certifi==2024.2.2", "idna==3.7"]
    assert not list(site_packages(venv).glob("six*"))


def advertises_core_metadata(project: str, filename: str) -> bool:
    request = urllib.request.Request(
        f"https://pypi.org/simple/{project}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        page = json.load(response)
    (entry,) = (f for f in page["files"] if f["filename"] == filename)
    return bool(entry.get("core-metadata") or entry.get("dist-info-metadata"))


def test_wheel_without_advertised_metadata_installs_from_pypi(kiln: Kiln, venv: Path) -> None:
    # With no `core-metadata` on the page, the resolver has to read METADATA out of the remote
    # wheel itself (range requests); if PyPI starts advertising it, this proves something else.
    if advertises_core_metadata("packaging", "packaging-24.1-py3-none-any.whl"):
        pytest.skip("PyPI now advertises core metadata for packaging 24.1; no range path to test")

    done = kiln("pip", "install", "packaging==24.1", "--python", str(venv), check=True)

    assert "+ packaging==24.1" in done.stderr, done.stderr
    version = run_py(venv, "import packaging; print(packaging.__version__)")
    assert version.stdout.strip() == "24.1", version.stderr
