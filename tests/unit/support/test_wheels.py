"""Wheels and sdists built from `Pkg` are valid, installable and byte-for-byte stable."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

from tests.support.wheels import Pkg, build_sdist, build_wheel, sdist_bytes, wheel_bytes


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env, check=False
    )


def members(wheel: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_wheel_installs_with_pip_and_imports(tmp_path: Path) -> None:
    pkg = Pkg("Demo_Pkg", "1.2.3", entry_points={"demo": "demo_pkg:main"})
    build_wheel(pkg, "py3-none-any", tmp_path / "dist")
    target = tmp_path / "target"
    done = pip("install", "--no-index", "--find-links", str(tmp_path / "dist"), "--target", str(target), "demo-pkg")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = subprocess.run(
        [sys.executable, "-c", "import demo_pkg; print(demo_pkg.__version__)"],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(target)},
    )  # fmt: skip
    assert out.stdout.strip() == "1.2.3"
    assert (target / "bin" / "demo").exists()


def test_record_lists_every_file_with_its_urlsafe_sha256_and_size() -> None:
    pkg = Pkg(
        "rec",
        "1.0",
        data_scripts={"tool.sh": "#!/bin/sh\necho hi\n"},
        entry_points={"r": "rec:main"},
    )
    files = members(wheel_bytes(pkg, "py3-none-any"))
    record = files.pop("rec-1.0.dist-info/RECORD").decode()
    rows = {row[0]: row for row in csv.reader(io.StringIO(record))}
    assert rows.pop("rec-1.0.dist-info/RECORD") == ["rec-1.0.dist-info/RECORD", "", ""]
    assert set(rows) == set(files)
    for path, (_, digest, size) in rows.items():
        expected = base64.urlsafe_b64encode(hashlib.sha256(files[path]).digest()).rstrip(b"=")
        assert digest == f"sha256={expected.decode()}"
        assert int(size) == len(files[path])
    assert "rec-1.0.data/scripts/tool.sh" in files
    assert (
        files["rec-1.0.dist-info/entry_points.txt"].decode() == "[console_scripts]\nr = rec:main\n"
    )


def test_same_pkg_builds_identical_bytes() -> None:
    pkg = Pkg("same", "1.0", requires_dist=["other>=1"], sdist=True)
    assert wheel_bytes(pkg, "py3-none-any") == wheel_bytes(
        Pkg("same", "1.0", requires_dist=["other>=1"]), "py3-none-any"
    )
    assert sdist_bytes(pkg) == sdist_bytes(pkg)
    assert wheel_bytes(pkg, "py3-none-any") != wheel_bytes(Pkg("same", "1.1"), "py3-none-any")


def test_file_name_normalizes_the_name_and_keeps_the_local_version(tmp_path: Path) -> None:
    path = build_wheel(Pkg("Typing.Extensions", "2.5.1+cpu"), "cp312-cp312-win_amd64", tmp_path)
    assert path.name == "typing_extensions-2.5.1+cpu-cp312-cp312-win_amd64.whl"
    assert build_sdist(Pkg("Foo-Bar", "1.0.0"), tmp_path).name == "foo_bar-1.0.0.tar.gz"
    assert Pkg("x", "01.0").wheel_filename("py3-none-any") == "x-1.0-py3-none-any.whl"


def test_platform_wheel_is_not_purelib_and_expands_compressed_tags() -> None:
    tag = "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64"
    wheel = members(wheel_bytes(Pkg("plat", "1.0"), tag))["plat-1.0.dist-info/WHEEL"].decode()
    assert "Root-Is-Purelib: false" in wheel
    assert "Tag: cp312-cp312-manylinux_2_17_aarch64" in wheel
    assert "Tag: cp312-cp312-manylinux2014_aarch64" in wheel
    pure = members(wheel_bytes(Pkg("plat", "1.0"), "py3-none-any"))["plat-1.0.dist-info/WHEEL"]
    assert b"Root-Is-Purelib: true" in pure


def test_metadata_carries_requirements_extras_and_python_bound() -> None:
    pkg = Pkg(
        "meta", "1.0", requires_python=">=3.9", summary="s",
        requires_dist=["a==1; platform_system == 'Linux'"],
        extras={"gpu": ["b>=2", "c; sys_platform == 'linux'"]},
    )  # fmt: skip
    raw = members(wheel_bytes(pkg, "py3-none-any"))["meta-1.0.dist-info/METADATA"].decode()
    message = Parser().parsestr(raw)
    assert message["Metadata-Version"] == "2.1"
    assert message["Requires-Python"] == ">=3.9"
    assert message.get_all("Provides-Extra") == ["gpu"]
    assert message.get_all("Requires-Dist") == [
        "a==1; platform_system == 'Linux'",
        "b>=2; extra == 'gpu'",
        "c; (sys_platform == 'linux') and extra == 'gpu'",
    ]


def test_sdist_carries_pkg_info_and_builds_offline_with_pip(tmp_path: Path) -> None:
    pkg = Pkg("srconly", "0.5", wheel=False, files={"srconly/__init__.py": "X = 5\n"})
    path = build_sdist(pkg, tmp_path / "dist")
    with tarfile.open(path) as archive:
        names = archive.getnames()
    assert "srconly-0.5/PKG-INFO" in names and "srconly-0.5/pyproject.toml" in names
    target = tmp_path / "target"
    done = pip("install", "--no-index", "--find-links", str(tmp_path / "dist"), "--target", str(target), "srconly")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "srconly" / "__init__.py").read_text() == "X = 5\n"
    assert (target / "srconly-0.5.dist-info" / "METADATA").exists()
