"""Where an environment wants each kind of installed file.

The python layer's `Scheme` has this shape; install accepts anything that does, so it never
imports the python layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class InstallScheme(Protocol):
    """Install paths of one environment, as sysconfig gives them."""

    @property
    def purelib(self) -> Path: ...

    @property
    def platlib(self) -> Path: ...

    @property
    def scripts(self) -> Path: ...

    @property
    def data(self) -> Path: ...

    @property
    def include(self) -> Path: ...


def scheme_prefix(scheme: InstallScheme) -> Path:
    """The folder every install path of the environment lives under (a venv's root)."""
    dirs = [
        os.path.realpath(p) for p in (scheme.purelib, scheme.platlib, scheme.scripts, scheme.data)
    ]
    return Path(os.path.commonpath(dirs))


def headers_dir(scheme: InstallScheme, project: str) -> Path:
    """Where a wheel's ``.data/headers`` go, as pip puts them.

    sysconfig's ``include`` of a virtual environment is the base interpreter's, outside the
    environment; pip (and uv) then use ``<prefix>/include/site/pythonX.Y/<project>``.
    """
    prefix = scheme_prefix(scheme)
    include = Path(os.path.realpath(scheme.include))
    if include.is_relative_to(prefix):
        return Path(scheme.include) / project
    python_dir = Path(scheme.purelib).parent.name  # lib/python3.12/site-packages
    if not python_dir.startswith("python"):
        python_dir = "python"
    return Path(scheme.data) / "include" / "site" / python_dir / project
