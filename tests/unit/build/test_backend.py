"""Reading `[build-system]`: the PEP 517 default, and errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.build.backend import LEGACY_BACKEND, BuildSystem, read_build_system
from kiln.core.build import BuildError


def _tree(tmp_path: Path, pyproject: str | None) -> Path:
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    return tmp_path


def test_no_pyproject_means_setuptools_legacy(tmp_path: Path) -> None:
    system = read_build_system(_tree(tmp_path, None))
    assert system == BuildSystem(("setuptools>=40.8.0",), LEGACY_BACKEND)
    assert system.is_legacy_default


def test_pyproject_without_table_means_setuptools_legacy(tmp_path: Path) -> None:
    system = read_build_system(_tree(tmp_path, '[project]\nname = "x"\n'))
    assert system.backend == "setuptools.build_meta:__legacy__"
    assert system.requires == ("setuptools>=40.8.0",)


def test_full_table(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    text = (
        '[build-system]\nrequires = ["hatchling>=1.21", "cython"]\n'
        'build-backend = "hatchling.build"\nbackend-path = ["backend"]\n'
    )
    system = read_build_system(_tree(tmp_path, text))
    assert system == BuildSystem(("hatchling>=1.21", "cython"), "hatchling.build", ("backend",))


def test_requires_without_backend_is_legacy_with_those_requires(tmp_path: Path) -> None:
    system = read_build_system(_tree(tmp_path, '[build-system]\nrequires = ["setuptools>=68"]\n'))
    assert system == BuildSystem(("setuptools>=68",), LEGACY_BACKEND)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[build-system]\nbuild-backend = "x"\n', "no `requires`"),
        ('[build-system]\nrequires = "setuptools"\n', "list of strings"),
        ('[build-system]\nrequires = ["not a requirement!!"]\n', "invalid requirement"),
        ("[build-system]\nrequires = []\nbuild-backend = 3\n", "non-empty string"),
        ('[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = [".."]\n', "leaves"),
        ('[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["/x"]\n', "absolute"),
        ("build-system = 3\n", "must be a table"),
    ],
)
def test_malformed_tables_name_the_file(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(BuildError) as info:
        read_build_system(_tree(tmp_path, text))
    assert str(tmp_path / "pyproject.toml") in info.value.message
    assert any(why in cause for cause in info.value.causes)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="is not valid TOML") as info:
        read_build_system(_tree(tmp_path, "[build-system\n"))
    assert str(tmp_path / "pyproject.toml") in info.value.message
