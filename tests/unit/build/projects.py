"""Source trees with a small in-tree PEP 517 backend that logs every hook it runs.

The backend is stdlib-only, so it works in an isolated build environment into which the
fake installer put nothing. Each hook appends its name, ``sys.prefix`` and working folder to
a log file named by absolute path, so a test can count how often the backend really ran, and
where.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

BACKEND = r"""
import base64, hashlib, io, json, os, sys, tarfile, zipfile

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "kiln_test_project.json")) as f:
    CONFIG = json.load(f)
NAME, VERSION = CONFIG["name"], CONFIG["version"]
DIST = f"{NAME.replace('-', '_')}-{VERSION}"


def _log(hook):
    with open(CONFIG["log"], "a") as f:
        f.write(f"{hook}\t{sys.prefix}\t{os.getcwd()}\n")
    if CONFIG["fail"] == hook:
        for i in range(100):
            print(f"backend line {i}")
        print("the compiler is on fire", file=sys.stderr)
        raise SystemExit(3)


def _metadata():
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {VERSION}"]
    lines += [f"Requires-Dist: {r}" for r in CONFIG["requires_dist"]]
    return "\n".join(lines) + "\n"


def _write_wheel(directory, files):
    files = dict(files)
    info = f"{DIST}.dist-info"
    files[f"{info}/METADATA"] = _metadata()
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    name = f"{DIST}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as zf:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
            zf.writestr(path, data)
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    _log("get_requires_for_build_wheel")
    return list(CONFIG["dynamic_requires"])


def get_requires_for_build_editable(config_settings=None):
    _log("get_requires_for_build_editable")
    return list(CONFIG["dynamic_requires"])


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_wheel")
    module = NAME.replace("-", "_")
    settings = json.dumps(config_settings or {})
    return _write_wheel(wheel_directory, {f"{module}/__init__.py": f"SETTINGS = {settings!r}\n"})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _log("build_editable")
    return _write_wheel(wheel_directory, {f"_{NAME}_editable.pth": os.getcwd() + "\n"})


def build_sdist(sdist_directory, config_settings=None):
    _log("build_sdist")
    name = f"{DIST}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for entry in sorted(os.listdir(".")):
            tar.add(entry, arcname=f"{DIST}/{entry}")
        data = _metadata().encode()
        info = tarfile.TarInfo(f"{DIST}/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name


if CONFIG["prepare"]:
    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        _log("prepare_metadata_for_build_wheel")
        info = os.path.join(metadata_directory, f"{DIST}.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as f:
            f.write(_metadata())
        return f"{DIST}.dist-info"
"""


@dataclass(frozen=True)
class Project:
    root: Path
    log: Path

    def hooks(self) -> list[str]:
        """The hooks the backend ran, in order."""
        return [line.split("\t")[0] for line in self._lines()]

    def prefixes(self) -> list[str]:
        return [line.split("\t")[1] for line in self._lines()]

    def cwds(self) -> list[str]:
        return [line.split("\t")[2] for line in self._lines()]

    def _lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def make_project(
    where: Path,
    name: str = "demo",
    version: str = "1.0",
    *,
    requires: tuple[str, ...] = (),
    dynamic_requires: tuple[str, ...] = (),
    requires_dist: tuple[str, ...] = ("six>=1.0",),
    prepare: bool = True,
    fail: str = "",
    backend: str = "kiln_test_backend",
    log: Path | None = None,
) -> Project:
    """A project folder at ``where`` built by the logging backend."""
    where.mkdir(parents=True, exist_ok=True)
    log = log or where.parent / f"{where.name}.log"
    config = {
        "name": name,
        "version": version,
        "log": str(log),
        "fail": fail,
        "prepare": prepare,
        "dynamic_requires": list(dynamic_requires),
        "requires_dist": list(requires_dist),
    }
    (where / "kiln_test_project.json").write_text(json.dumps(config))
    (where / "kiln_test_backend.py").write_text(BACKEND)
    (where / "pyproject.toml").write_text(
        "[build-system]\n"
        f"requires = {json.dumps(list(requires))}\n"
        f'build-backend = "{backend}"\n'
        'backend-path = ["."]\n'
    )
    return Project(where, log)


def make_sdist(project: Project, dest: Path, *, pkg_info: str) -> Path:
    """An sdist of ``project`` whose PKG-INFO is ``pkg_info``, written by hand."""
    dest.mkdir(parents=True, exist_ok=True)
    top = project.root.name
    archive = dest / f"{top}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for entry in sorted(project.root.iterdir()):
            tar.add(entry, arcname=f"{top}/{entry.name}")
        data = pkg_info.encode()
        info = tarfile.TarInfo(f"{top}/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return archive
