"""`kiln build`: sdist and wheel into an output folder; and a real backend where one exists."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from kiln.build.builder import Frontend
from kiln.build.distributions import build_distributions
from kiln.core.build import BuildError

from .conftest import RecordingInstaller, request
from .projects import make_project

PYTHON = Path(sys.executable)


def test_sdist_then_wheel_from_it(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo", requires=("backend-dep",))
    out = tmp_path / "dist"

    made = build_distributions(
        project.root, out, sdist=True, wheel=True, frontend=frontend, python=PYTHON
    )

    assert [p.name for p in made] == ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in made)
    assert project.hooks() == [
        "build_sdist",
        "get_requires_for_build_wheel",
        "build_wheel",
    ]
    sdist_cwd, *wheel_cwds = project.cwds()
    assert Path(sdist_cwd) == project.root.resolve()
    assert all(Path(cwd).name == "demo-1.0" for cwd in wheel_cwds), "wheel built from the sdist"
    with tarfile.open(made[0]) as tar:
        assert "demo-1.0/PKG-INFO" in tar.getnames()
    with zipfile.ZipFile(made[1]) as zf:
        assert "demo/__init__.py" in zf.namelist()


def test_neither_flag_means_both(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")
    made = build_distributions(
        project.root, tmp_path / "dist", sdist=False, wheel=False, frontend=frontend, python=PYTHON
    )
    assert [p.suffix for p in made] == [".gz", ".whl"]


def test_wheel_only_from_the_folder(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")
    made = build_distributions(
        project.root, tmp_path / "dist", sdist=False, wheel=True, frontend=frontend, python=PYTHON
    )
    assert [p.name for p in made] == ["demo-1.0-py3-none-any.whl"]
    assert Path(project.cwds()[-1]) == project.root.resolve()


def test_sdist_of_an_sdist_is_refused(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")
    (sdist,) = build_distributions(
        project.root, tmp_path / "dist", sdist=True, wheel=False, frontend=frontend, python=PYTHON
    )
    with pytest.raises(BuildError, match="cannot build a source distribution") as info:
        build_distributions(
            sdist, tmp_path / "again", sdist=True, wheel=False, frontend=frontend, python=PYTHON
        )
    assert info.value.causes == ("it is a source distribution already",)


def test_failed_build_leaves_the_output_folder_clean(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo", fail="build_sdist")
    out = tmp_path / "dist"
    with pytest.raises(BuildError, match="build_sdist"):
        build_distributions(
            project.root, out, sdist=True, wheel=True, frontend=frontend, python=PYTHON
        )
    assert list(out.iterdir()) == []


def _setuptools_builds_wheels() -> bool:
    # Before 70.1 setuptools needs the separate `wheel` package for bdist_wheel.
    if importlib.util.find_spec("setuptools") is None:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    return Version(importlib.metadata.version("setuptools")) >= Version("70.1")


def _setuptools_project(root: Path) -> Path:
    (root / "real_pkg").mkdir(parents=True)
    (root / "real_pkg" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "real-pkg"\nversion = "0.3"\ndependencies = ["six"]\n'
        '[tool.setuptools]\npackages = ["real_pkg"]\n'
    )
    return root


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None, reason="setuptools is not installed here"
)
def test_real_setuptools_sdist_without_isolation(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    root = _setuptools_project(tmp_path / "real")
    (sdist,) = build_distributions(
        root,
        tmp_path / "dist",
        sdist=True,
        wheel=False,
        frontend=frontend,
        python=PYTHON,
        isolation=False,
    )
    assert sdist.name == "real-pkg-0.3.tar.gz" or sdist.name == "real_pkg-0.3.tar.gz"
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    top = sdist.name[: -len(".tar.gz")]
    assert f"{top}/PKG-INFO" in names and f"{top}/real_pkg/__init__.py" in names
    assert installer.calls == []


@pytest.mark.skipif(not _setuptools_builds_wheels(), reason="no setuptools that builds wheels")
def test_real_setuptools_wheel_without_isolation(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    root = _setuptools_project(tmp_path / "real")

    metadata = frontend.metadata(request(root, isolation=False))
    wheel = frontend.wheel(request(root, isolation=False))

    assert (metadata.name, str(metadata.version)) == ("real-pkg", "0.3")
    assert [str(r) for r in metadata.requires_dist] == ["six"]
    assert wheel.name == "real_pkg-0.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        assert "real_pkg/__init__.py" in zf.namelist()
    assert installer.calls == []


def test_no_isolation_missing_backend_hints_at_isolation(
    tmp_path: Path, frontend: Frontend
) -> None:
    project = make_project(tmp_path / "demo", backend="not_installed_backend", requires=("x",))
    (project.root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["not-installed-backend"]\n'
        'build-backend = "not_installed_backend"\n'
    )
    with pytest.raises(BuildError, match="could not import the backend") as info:
        frontend.wheel(request(project.root, isolation=False))
    assert info.value.hint is not None and "build isolation is off" in info.value.hint
