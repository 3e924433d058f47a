"""Seams of the build frontend: what resolve and install ask of it, and what it asks back.

`build` needs an installer for its isolated environments and `resolve`/`install` need builds,
yet none of them may import another; they meet here, and `commands` wires the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from kiln.core.errors import KilnError
from kiln.core.metadata import CoreMetadata
from kiln.core.records import field, record

SDIST_SUFFIXES = (".tar.gz", ".zip")


class BuildError(KilnError):
    """A build backend failed, or a source tree cannot be built as it is."""


@record
class BuildRequest:
    """One source to build: a project folder, or an sdist (``.tar.gz`` or ``.zip``) file."""

    source: Path
    python: Path  # the interpreter the built wheel is for
    isolation: bool = True
    extra_build_requirements: tuple[str, ...] = ()
    # Passed to every hook as PEP 517 ``config_settings``; kept read-only so a request that
    # keys caches cannot change under them.
    config_settings: Mapping[str, str] = field(default_factory=dict, hash=False)
    # What messages call the source, e.g. "foo 1.2" from the index; the path when empty.
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_settings", MappingProxyType(dict(self.config_settings)))
        object.__setattr__(self, "extra_build_requirements", tuple(self.extra_build_requirements))

    @property
    def is_sdist(self) -> bool:
        return self.source.name.endswith(SDIST_SUFFIXES) and not self.source.is_dir()


class BuildEnvironmentInstaller(Protocol):
    """Installs ``requirements`` into the fresh virtual environment at ``target``.

    The frontend has made ``target`` with the interpreter ``python`` (a venv's own python);
    the command layer implements this with kiln's resolver and installer. Errors propagate
    to the caller of the build unchanged.
    """

    def install(self, requirements: Sequence[str], python: Path, target: Path) -> None: ...


class Builder(Protocol):
    """What resolve (sdist metadata) and install (wheels from source) ask of the frontend."""

    def metadata(self, request: BuildRequest) -> CoreMetadata: ...

    def wheel(self, request: BuildRequest, *, editable: bool = False) -> Path:
        """A built wheel file, in the cache; valid until the cache is cleaned."""
        ...


class WheelBuilder(Protocol):
    """What the installer asks when only an sdist fits: a wheel built from it for the
    environment being installed into (the command layer binds the interpreter)."""

    def build_wheel(self, sdist: Path, label: str) -> Path: ...
