"""Declarative test packages and the wheels and sdists built from them.

Output is byte-for-byte deterministic (fixed zip and tar timestamps, fixed member order), so
the same `Pkg` always yields the same sha256 and tests can pin hashes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.tags import parse_tag
from packaging.version import Version

FIXED_UPLOAD_TIME = "2024-01-01T00:00:00Z"
# The earliest time a zip entry can hold; any fixed value would do.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Pkg:
    """One release of one project, as a test wants it to exist on an index."""

    name: str
    version: str
    requires_dist: list[str] = field(default_factory=list)
    requires_python: str | None = None
    extras: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=lambda: ["py3-none-any"])
    files: dict[str, str] | None = None
    entry_points: dict[str, str] = field(default_factory=dict)
    data_scripts: dict[str, str] = field(default_factory=dict)
    sdist: bool = False
    wheel: bool = True
    yanked: str | None = None
    upload_time: str | None = None
    summary: str = ""

    @property
    def normalized_name(self) -> str:
        return re.sub(r"[-_.]+", "-", self.name).lower()

    @property
    def dist_name(self) -> str:
        """The name as wheel and sdist file names spell it (PEP 427 / PEP 625)."""
        return self.normalized_name.replace("-", "_")

    @property
    def file_version(self) -> str:
        # Normalized, with any local part and its `+` kept, as the wheel spec asks.
        return str(Version(self.version))

    @property
    def import_name(self) -> str:
        return self.dist_name

    @property
    def dist_info(self) -> str:
        return f"{self.dist_name}-{self.file_version}.dist-info"

    def package_files(self) -> dict[str, str]:
        if self.files is not None:
            return dict(self.files)
        return {f"{self.import_name}/__init__.py": f'__version__ = "{self.version}"\n'}

    def wheel_filename(self, tag: str) -> str:
        return f"{self.dist_name}-{self.file_version}-{tag}.whl"

    def sdist_filename(self) -> str:
        return f"{self.dist_name}-{self.file_version}.tar.gz"

    def metadata(self) -> str:
        """The core metadata (METADATA in a wheel, PKG-INFO in an sdist)."""
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {self.name}",
            f"Version: {self.version}",
        ]
        if self.summary:
            lines.append(f"Summary: {self.summary}")
        if self.requires_python is not None:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines.extend(f"Requires-Dist: {req}" for req in self.requires_dist)
        for extra, reqs in self.extras.items():
            lines.append(f"Provides-Extra: {extra}")
            lines.extend(f"Requires-Dist: {_with_extra_marker(req, extra)}" for req in reqs)
        return "\n".join(lines) + "\n\n"

    def entry_points_txt(self) -> str | None:
        if not self.entry_points:
            return None
        body = "".join(f"{name} = {target}\n" for name, target in self.entry_points.items())
        return "[console_scripts]\n" + body


def _with_extra_marker(req: str, extra: str) -> str:
    if ";" in req:
        spec, marker = req.split(";", 1)
        return f"{spec.strip()}; ({marker.strip()}) and extra == '{extra}'"
    return f"{req}; extra == '{extra}'"


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode('ascii')}"


def _wheel_file(pkg: Pkg, tag: str) -> str:
    purelib = tag == "py3-none-any" or tag.endswith("-none-any")
    lines = [
        "Wheel-Version: 1.0",
        "Generator: kiln-tests (1.0)",
        f"Root-Is-Purelib: {'true' if purelib else 'false'}",
    ]
    # A compressed tag set such as `manylinux_2_17_aarch64.manylinux2014_aarch64` expands
    # to one Tag line per tag, as bdist_wheel writes it.
    lines.extend(f"Tag: {t}" for t in sorted(str(t) for t in parse_tag(tag)))
    return "\n".join(lines) + "\n\n"


def wheel_bytes(pkg: Pkg, tag: str) -> bytes:
    members: list[tuple[str, bytes, int]] = []
    for path, text in sorted(pkg.package_files().items()):
        members.append((path, text.encode(), 0o644))
    data_dir = f"{pkg.dist_name}-{pkg.file_version}.data"
    for script, text in sorted(pkg.data_scripts.items()):
        members.append((f"{data_dir}/scripts/{script}", text.encode(), 0o755))
    members.append((f"{pkg.dist_info}/METADATA", pkg.metadata().encode(), 0o644))
    members.append((f"{pkg.dist_info}/WHEEL", _wheel_file(pkg, tag).encode(), 0o644))
    entry_points = pkg.entry_points_txt()
    if entry_points is not None:
        members.append((f"{pkg.dist_info}/entry_points.txt", entry_points.encode(), 0o644))
    record_path = f"{pkg.dist_info}/RECORD"
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data, _ in members)
    record += f"{record_path},,\n"
    members.append((record_path, record.encode(), 0o644))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data, mode in members:
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # unix, so the mode bits above are honoured
            archive.writestr(info, data)
    return buffer.getvalue()


def build_wheel(pkg: Pkg, tag: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / pkg.wheel_filename(tag)
    path.write_bytes(wheel_bytes(pkg, tag))
    return path


# An in-tree PEP 517 backend with no requirements, so an sdist builds offline. It packs the
# sdist's own files into a py3-none-any wheel with PKG-INFO as METADATA.
_BACKEND = """\
import base64, hashlib, os, zipfile

_SKIP = {"PKG-INFO", "pyproject.toml", "_kiln_test_backend.py", "entry_points.txt", "setup.cfg"}


def _meta():
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    name = fields["Name"].lower().replace("-", "_").replace(".", "_")
    return text, name, fields["Version"]


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info_files():
    text, name, version = _meta()
    info = f"{name}-{version}.dist-info"
    files = {f"{info}/METADATA": text.encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: kiln-test-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n\\n"}
    if os.path.exists("entry_points.txt"):
        with open("entry_points.txt", "rb") as f:
            files[f"{info}/entry_points.txt"] = f.read()
    return info, name, version, files


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info, _, _, files = _dist_info_files()
    for path, data in files.items():
        target = os.path.join(metadata_directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info, name, version, files = _dist_info_files()
    members = {}
    for root, dirs, names in os.walk("."):
        dirs.sort()
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(root, n), ".").replace(os.sep, "/")
            if rel in _SKIP or "__pycache__" in rel or rel.endswith(".egg-info"):
                continue
            with open(rel, "rb") as f:
                members[rel] = f.read()
    members.update(files)
    record = ""
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\\n"
    record += f"{info}/RECORD,,\\n"
    members[f"{info}/RECORD"] = record.encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in members.items():
            z.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return filename


build_editable = build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel
prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
"""


def _pyproject(pkg: Pkg) -> str:
    deps = ", ".join(f'"{_toml_escape(r)}"' for r in pkg.requires_dist)
    lines = [
        "[build-system]",
        "requires = []",
        'build-backend = "_kiln_test_backend"',
        'backend-path = ["."]',
        "",
        "[project]",
        f'name = "{pkg.name}"',
        f'version = "{pkg.version}"',
        f"dependencies = [{deps}]",
    ]
    if pkg.requires_python is not None:
        lines.append(f'requires-python = "{_toml_escape(pkg.requires_python)}"')
    if pkg.extras:
        lines.append("")
        lines.append("[project.optional-dependencies]")
        for extra, reqs in pkg.extras.items():
            items = ", ".join(f'"{_toml_escape(r)}"' for r in reqs)
            lines.append(f"{extra} = [{items}]")
    if pkg.entry_points:
        lines.append("")
        lines.append("[project.scripts]")
        lines.extend(f'{name} = "{target}"' for name, target in pkg.entry_points.items())
    return "\n".join(lines) + "\n"


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def sdist_bytes(pkg: Pkg) -> bytes:
    top = f"{pkg.dist_name}-{pkg.file_version}"
    members: dict[str, bytes] = {
        "PKG-INFO": pkg.metadata().encode(),
        "pyproject.toml": _pyproject(pkg).encode(),
        "_kiln_test_backend.py": _BACKEND.encode(),
    }
    entry_points = pkg.entry_points_txt()
    if entry_points is not None:
        members["entry_points.txt"] = entry_points.encode()
    for path, text in pkg.package_files().items():
        members[path] = text.encode()

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(members):
            data = members[path]
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    # mtime=0 and no file name in the gzip header keep the bytes stable.
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


def build_sdist(pkg: Pkg, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / pkg.sdist_filename()
    path.write_bytes(sdist_bytes(pkg))
    return path
