"""Wheels built in memory, a cache, and real virtual environments to install into."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from tests.support.pythons import interpreter_for

BASE_PYTHON = interpreter_for("3.12") or Path(sys.executable)


@dataclass(frozen=True)
class Scheme:
    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    include: Path


@dataclass(frozen=True)
class Venv:
    root: Path
    python: Path
    scheme: Scheme

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
        environ.update(PIP_CONFIG_FILE="/dev/null", PIP_DISABLE_PIP_VERSION_CHECK="1", **env)
        return subprocess.run(
            [str(self.python), *args], capture_output=True, text=True, env=environ, check=False
        )


def make_venv(root: Path, *, with_pip: bool = False) -> Venv:
    args = [str(BASE_PYTHON), "-m", "venv", str(root)]
    if not with_pip:
        args.insert(3, "--without-pip")
    subprocess.run(args, check=True, capture_output=True)
    version = subprocess.run(
        [
            str(root / "bin" / "python"),
            "-c",
            "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = root / "lib" / f"python{version}" / "site-packages"
    include = BASE_PYTHON.parent.parent / "include" / f"python{version}"
    return Venv(root, root / "bin" / "python", Scheme(site, site, root / "bin", root, include))


@dataclass(frozen=True)
class BuiltWheel:
    path: Path
    sha256: str
    dist_info: str


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(
    folder: Path,
    name: str,
    version: str = "1.0",
    files: Mapping[str, bytes | str] | None = None,
    *,
    entry_points: str | None = None,
    root_is_purelib: bool = True,
    tag: str = "py3-none-any",
    extra_members: Mapping[str, bytes | str] | None = None,
    record_overrides: Mapping[str, str] | None = None,
    omit_from_record: tuple[str, ...] = (),
    modes: Mapping[str, int] | None = None,
) -> BuiltWheel:
    """A wheel with ``files`` (paths inside the wheel), a METADATA, WHEEL and RECORD.

    ``extra_members`` are added verbatim after RECORD is computed (for malformed wheels);
    ``record_overrides`` replace a file's RECORD hash.
    """
    stem = f"{name.replace('-', '_')}-{version}"
    dist_info = f"{stem}.dist-info"
    members: dict[str, bytes] = {}
    for path, content in (files or {}).items():
        members[path] = content.encode() if isinstance(content, str) else content
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name} for tests\n"
    ).encode()
    members[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: kiln-tests\n"
        f"Root-Is-Purelib: {'true' if root_is_purelib else 'false'}\nTag: {tag}\n"
    ).encode()
    if entry_points is not None:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in members.items():
        if path in omit_from_record:
            continue
        hash_ = (record_overrides or {}).get(path, record_hash(data))
        writer.writerow((path, hash_, len(data)))
    writer.writerow((f"{dist_info}/RECORD", "", ""))
    members[f"{dist_info}/RECORD"] = out.getvalue().encode()
    for path, content in (extra_members or {}).items():
        members[path] = content.encode() if isinstance(content, str) else content
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = ((modes or {}).get(path, 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return BuiltWheel(wheel, hashlib.sha256(wheel.read_bytes()).hexdigest(), dist_info)


WheelFactory = Callable[..., BuiltWheel]


def member_data(wheel: Path, member: str) -> tuple[int, int]:
    """Where a member's (compressed) data starts in the archive, and its length."""
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
    return info.header_offset + 30 + len(info.filename.encode()) + len(
        info.extra
    ), info.compress_size


@pytest.fixture
def wheel_factory(tmp_path: Path) -> WheelFactory:
    def factory(
        name: str,
        version: str = "1.0",
        files: Mapping[str, bytes | str] | None = None,
        **kw: object,
    ) -> BuiltWheel:
        return build_wheel(tmp_path / "wheels" / f"{name}-{version}", name, version, files, **kw)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "venv")


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A venv with pip; shared by a module's tests, which must clean up what they install."""
    return make_venv(tmp_path_factory.mktemp("pip-venv") / "venv", with_pip=True)


def files_under(root: Path) -> set[Path]:
    return {Path(d) / f for d, _, fs in os.walk(root) for f in fs}
