"""The miniature PyTorch world has the shapes the real indexes have."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.parse
import zipfile
from pathlib import Path

from tests.support.index_server import JSON_TYPE, IndexServer
from tests.unit.support.client import fetch


def filenames(server: IndexServer, project: str, index: str) -> set[str]:
    return {f.filename for f in server.files(project, index)}


def test_pytorch_layout_has_absolute_hrefs_with_encoded_plus(torch_server: IndexServer) -> None:
    answer = fetch(torch_server.project_url("torch", "whl/cpu"), headers={"Accept": JSON_TYPE})
    assert answer.headers["content-type"].startswith("text/html"), (
        "the PyTorch index ignores Accept"
    )
    expected = (
        f'href="{torch_server.url}/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl#sha256='
    )
    assert expected in answer.text
    assert "data-core-metadata" not in answer.text


def test_pytorch_layout_serves_files_at_the_listed_urls_with_ranges(
    torch_server: IndexServer,
) -> None:
    url = f"{torch_server.url}/whl/cpu/{urllib.parse.quote('torch-2.5.1+cpu-cp312-cp312-linux_x86_64.whl')}"
    whole = fetch(url)
    assert whole.status == 200
    with zipfile.ZipFile(io.BytesIO(whole.body)) as wheel:
        assert wheel.read("torch/__init__.py") == b'__version__ = "2.5.1+cpu"\n'
    assert fetch(url, headers={"Range": "bytes=-22"}).status == 206


def test_torch_releases_cover_cp313_and_the_cpu_index_has_plain_macos_builds(
    torch_server: IndexServer,
) -> None:
    names = filenames(torch_server, "torch", "pypi")
    assert "torch-2.5.1-cp313-cp313-manylinux_2_28_x86_64.whl" in names
    assert "torch-2.6.0-cp313-cp313-manylinux_2_28_x86_64.whl" in names
    assert "torch-2.5.1-cp312-cp312-macosx_11_0_arm64.whl" in names
    cpu = filenames(torch_server, "torch", "whl/cpu")
    assert "torch-2.5.1-cp312-none-macosx_11_0_arm64.whl" in cpu
    assert not any("macosx" in n for n in cpu if "+cpu" in n)


def test_cpu_index_has_no_macos_local_build_and_a_compressed_aarch64_tag(
    torch_server: IndexServer,
) -> None:
    names = filenames(torch_server, "torch", "whl/cpu")
    assert not any("macosx" in n for n in names if "+cpu" in n)
    assert "torch-2.5.1+cpu-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl" in names


def test_pypi_linux_torch_needs_nvidia_only_on_linux_x86_64(torch_server: IndexServer) -> None:
    stored = torch_server.files("torch", "pypi")[0]
    metadata = (stored.metadata or b"").decode()
    assert (
        'Requires-Dist: nvidia-cublas-cu12==12.4.5.8; platform_system == "Linux" and platform_machine == "x86_64"'
        in metadata
    )
    cpu = torch_server.files("torch", "whl/cpu")[0].metadata or b""
    assert b"nvidia" not in cpu


def test_cpu_index_carries_a_newer_jinja2_than_pypi(torch_server: IndexServer) -> None:
    assert "jinja2-3.1.99-py3-none-any.whl" in filenames(torch_server, "jinja2", "whl/cpu")
    assert "jinja2-3.1.99-py3-none-any.whl" not in filenames(torch_server, "jinja2", "pypi")


def test_every_torch_index_has_its_local_build(torch_server: IndexServer) -> None:
    for index, local in [("whl/cpu", "+cpu"), ("whl/cu124", "+cu124"), ("whl/rocm6.2", "+rocm6.2")]:
        assert any(
            n.startswith(f"torch-2.5.1{local}-") for n in filenames(torch_server, "torch", index)
        )
    rocm = torch_server.files("torch", "whl/rocm6.2")[0].metadata or b""
    assert b"pytorch-triton-rocm==3.1.0" in rocm


def test_pip_installs_the_cpu_stack_from_the_cpu_index(
    torch_server: IndexServer, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(target), "--index-url",
         torch_server.index_url("whl/cpu"), "torch", "torchvision", "torchaudio", "--report", "-", "--quiet"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    versions = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]}
    assert versions["torch"] == "2.5.1+cpu" and versions["torchvision"] == "0.20.1+cpu"
    assert not any(name.startswith("nvidia") for name in versions)
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"],
        capture_output=True, text=True, check=True, env={**env, "PYTHONPATH": str(target)},
    )  # fmt: skip
    assert out.stdout.strip() == "2.5.1+cpu"
