"""Where an environment wants each kind of installed file.

The python layer's `Scheme` has this shape; install accepts anything that does, so it never
imports the python layer.
"""

from __future__ import annotations

import functools
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
    return _prefix(str(scheme.purelib), str(scheme.platlib), str(scheme.scripts), str(scheme.data))


@functools.lru_cache(maxsize=16)
def _prefix(*folders: str) -> Path:
    # Asked once per wheel installed or removed: four `realpath` walks each time were a
    # measurable part of installing small wheels. An environment's folders do not move
    # while kiln changes it.
    return Path(os.path.commonpath([os.path.realpath(p) for p in folders]))


def headers_dir(scheme: InstallScheme, project: str) -> Path:
    """Where a wheel's ``.data/headers`` go, as pip puts them.

    sysconfig's ``include`` of a virtual environment is the base interpreter's, outside the
    environment; pip (and uv) then use ``<prefix>/include/site/pythonX.Y/<project>``.
    """
    return (
        _headers_root(scheme_prefix(scheme), scheme.include, scheme.purelib, scheme.data) / project
    )


@functools.lru_cache(maxsize=16)
def _headers_root(prefix: Path, include: Path, purelib: Path, data: Path) -> Path:
    if Path(os.path.realpath(include)).is_relative_to(prefix):
        return Path(include)
    python_dir = Path(purelib).parent.name  # lib/python3.12/site-packages
    if not python_dir.startswith("python"):
        python_dir = "python"
    return Path(data) / "include" / "site" / python_dir
