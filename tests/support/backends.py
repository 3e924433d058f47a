"""A stdlib-only PEP 517 backend for `src/`-layout test projects: building one needs nothing
from an index, so a project can be synced, built editable or not, against the test server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_TEMPLATE = r"""
import base64, hashlib, os, zipfile

NAME, VERSION = {name!r}, {version!r}
REQUIRES = {requires!r}
SCRIPTS = {scripts!r}
DIST = f"{{NAME}}-{{VERSION}}"


def _wheel(directory, files):
    info = f"{{DIST}}.dist-info"
    files = dict(files)
    meta = [f"Metadata-Version: 2.1", f"Name: {{NAME}}", f"Version: {{VERSION}}"]
    files[f"{{info}}/METADATA"] = "\n".join(meta + [f"Requires-Dist: {{r}}" for r in REQUIRES]) + "\n"
    files[f"{{info}}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if SCRIPTS:
        lines = [f"{{k}} = {{v}}" for k, v in SCRIPTS.items()]
        files[f"{{info}}/entry_points.txt"] = "[console_scripts]\n" + "\n".join(lines) + "\n"
    record = []
    name = f"{{DIST}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as zf:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{{path}},sha256={{digest}},{{len(data)}}")
            zf.writestr(path, data)
        zf.writestr(f"{{info}}/RECORD", "\n".join(record + [f"{{info}}/RECORD,,"]) + "\n")
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join("src", NAME, "__init__.py")) as f:
        return _wheel(wheel_directory, {{f"{{NAME}}/__init__.py": f.read()}})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {{f"_{{NAME}}.pth": os.path.join(os.getcwd(), "src") + "\n"}})
"""


def src_backend(
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    scripts: Mapping[str, str] | None = None,
) -> str:
    """The source of `backend.py` for a project `name` whose code is `src/<name>/`."""
    return _TEMPLATE.format(
        name=name, version=version, requires=list(requires_dist), scripts=dict(scripts or {})
    )
