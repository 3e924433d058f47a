"""A cache, an installer that only records, and a frontend wired to both."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiln.build.builder import Frontend
from kiln.cache.layout import Cache
from kiln.core.build import BuildRequest


@dataclass
class RecordingInstaller:
    """Installs nothing; remembers each environment it was asked to fill."""

    calls: list[tuple[tuple[str, ...], Path, Path]] = field(default_factory=list)

    def install(self, requirements: Sequence[str], python: Path, target: Path) -> None:
        assert (target / "pyvenv.cfg").is_file(), "the frontend makes the env before filling it"
        assert python.exists()
        self.calls.append((tuple(requirements), python, target))

    @property
    def requirement_sets(self) -> list[tuple[str, ...]]:
        return [call[0] for call in self.calls]


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def installer() -> RecordingInstaller:
    return RecordingInstaller()


@pytest.fixture
def frontend(cache: Cache, installer: RecordingInstaller) -> Frontend:
    return Frontend(cache, installer)


def request(source: Path, **kwargs: object) -> BuildRequest:
    """A request for the interpreter running the tests."""
    return BuildRequest(source=source, python=Path(sys.executable), **kwargs)  # type: ignore[arg-type]
