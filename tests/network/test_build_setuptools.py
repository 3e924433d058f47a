"""`kiln build` of a setuptools project, its build environment filled from the real PyPI."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.network


def test_setuptools_project_builds_with_isolation(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "proj"
    (project / "src" / "spam").mkdir(parents=True)
    (project / "src" / "spam" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "spam"\nversion = "0.2.0"\nrequires-python = ">=3.9"\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n'
    )
    done = kiln("build", "--python", "3.12", cwd=project, check=True)
    assert "Successfully built dist/spam-0.2.0.tar.gz" in done.stderr
    assert "Successfully built dist/spam-0.2.0-py3-none-any.whl" in done.stderr
    with zipfile.ZipFile(project / "dist" / "spam-0.2.0-py3-none-any.whl") as zf:
        assert "spam/__init__.py" in zf.namelist()
