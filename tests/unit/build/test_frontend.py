"""The frontend against a real (in-tree) backend, in real isolated environments."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from kiln.build.builder import Frontend
from kiln.build.envs import BuildEnvs
from kiln.cache.layout import Cache
from kiln.core.build import Builder, BuildError

from .conftest import RecordingInstaller, request
from .projects import make_project, make_sdist

PKG_INFO_22 = "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nRequires-Dist: attrs>=23\n"
PKG_INFO_21 = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: attrs>=23\n"


def test_frontend_is_a_builder(frontend: Frontend) -> None:
    builder: Builder = frontend
    assert builder is frontend


def test_static_pkg_info_gives_metadata_without_building(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    project = make_project(tmp_path / "demo-1.0", requires=("backend-dep",))
    sdist = make_sdist(project, tmp_path / "dist", pkg_info=PKG_INFO_22)

    metadata = frontend.metadata(request(sdist))

    assert (metadata.name, str(metadata.version)) == ("demo", "1.0")
    assert [str(r) for r in metadata.requires_dist] == ["attrs>=23"]
    assert project.hooks() == []
    assert installer.calls == [], "no build environment was needed"


def test_dynamic_pkg_info_asks_the_hook_once(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    project = make_project(tmp_path / "demo-1.0", requires=("backend-dep>=2",))
    sdist = make_sdist(project, tmp_path / "dist", pkg_info=PKG_INFO_21)

    first = frontend.metadata(request(sdist))
    second = frontend.metadata(request(sdist))

    # The hook's answer (from the backend), not PKG-INFO's.
    assert [str(r) for r in first.requires_dist] == ["six>=1.0"]
    assert second == first
    assert project.hooks() == ["get_requires_for_build_wheel", "prepare_metadata_for_build_wheel"]
    assert installer.requirement_sets == [("backend-dep>=2",)]
    env = installer.calls[0][2]
    assert env.parent.name == "envs" and env.parent.parent.name == "builds-v1"


def test_missing_prepare_hook_builds_the_wheel_and_keeps_it(
    tmp_path: Path, frontend: Frontend
) -> None:
    project = make_project(tmp_path / "demo", prepare=False)

    metadata = frontend.metadata(request(project.root))
    wheel = frontend.wheel(request(project.root))

    assert [str(r) for r in metadata.requires_dist] == ["six>=1.0"]
    assert wheel.name == "demo-1.0-py3-none-any.whl"
    assert project.hooks().count("build_wheel") == 1, "the fallback's wheel was served again"


def test_wheel_is_built_once_then_served_from_the_cache(
    tmp_path: Path, frontend: Frontend, cache: Cache
) -> None:
    project = make_project(tmp_path / "demo-1.0")
    sdist = make_sdist(project, tmp_path / "dist", pkg_info=PKG_INFO_21)

    first = frontend.wheel(request(sdist))
    second = Frontend(cache, RecordingInstaller()).wheel(request(sdist))

    assert first == second
    assert first.is_relative_to(cache.root / "builds-v1" / "wheels")
    assert project.hooks().count("build_wheel") == 1
    with zipfile.ZipFile(first) as zf:
        assert "demo-1.0.dist-info/METADATA" in zf.namelist()
    assert not any((cache.root / "tmp-v1").iterdir()), "scratch space is cleaned up"


def test_config_settings_key_the_cache(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")
    plain = frontend.wheel(request(project.root))
    tuned = frontend.wheel(request(project.root, config_settings={"opt": "1"}))
    assert plain != tuned
    with zipfile.ZipFile(tuned) as zf:
        assert '"opt": "1"' in zf.read("demo/__init__.py").decode()
    assert project.hooks().count("build_wheel") == 2


def test_editing_a_project_folder_rebuilds(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")
    frontend.wheel(request(project.root))
    frontend.wheel(request(project.root))
    (project.root / "demo.py").write_text("changed = True\n")
    frontend.wheel(request(project.root))
    assert project.hooks().count("build_wheel") == 2


def test_editable_wheel(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo")

    wheel = frontend.wheel(request(project.root), editable=True)

    assert project.hooks() == ["get_requires_for_build_editable", "build_editable"]
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("_demo_editable.pth").decode().strip() == str(project.root.resolve())
    assert frontend.wheel(request(project.root), editable=True) == wheel
    assert frontend.wheel(request(project.root)) != wheel, "editable and regular are apart"


def test_editable_of_an_sdist_is_refused(tmp_path: Path, frontend: Frontend) -> None:
    sdist = make_sdist(make_project(tmp_path / "demo-1.0"), tmp_path, pkg_info=PKG_INFO_21)
    with pytest.raises(BuildError, match="cannot build an editable wheel"):
        frontend.wheel(request(sdist), editable=True)


def test_failing_backend_raises_with_its_output(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo", fail="build_wheel")

    with pytest.raises(BuildError) as info:
        frontend.wheel(request(project.root, label="demo 1.0"))

    message = info.value.message
    assert message.startswith("failed to build `demo 1.0` (from ")
    assert "hook `build_wheel` of backend `kiln_test_backend` exited with status 3" in message
    assert "the compiler is on fire" in message
    assert "backend line 99" in message
    assert "backend line 50" not in message, "only the end of the output is shown"
    assert "error: failed to build" in info.value.render()
    assert not any((tmp_path / "cache" / "builds-v1" / "wheels").glob("*/*.whl")), (
        "a failed build caches nothing"
    )


def test_unimportable_backend(tmp_path: Path, frontend: Frontend) -> None:
    project = make_project(tmp_path / "demo", backend="no_such_backend_module")
    with pytest.raises(BuildError, match="could not import the backend") as info:
        frontend.wheel(request(project.root))
    assert "no_such_backend_module" in info.value.message


def test_env_reused_across_builds_with_the_same_requires(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    one = make_project(tmp_path / "one", "one", requires=("b>=1", "a"))
    two = make_project(tmp_path / "two", "two", requires=("a", "b>=1"))
    other = make_project(tmp_path / "other", "other", requires=("c",))

    for project in (one, two, other):
        frontend.wheel(request(project.root))

    assert installer.requirement_sets == [("a", "b>=1"), ("c",)]
    assert {Path(cwd).name for cwd in one.cwds() + two.cwds()} == {"one", "two"}
    shared_env = str(installer.calls[0][2])
    assert set(one.prefixes() + two.prefixes()) == {shared_env}, "hooks ran inside the env"
    assert set(other.prefixes()) == {str(installer.calls[1][2])}


def test_interrupted_env_is_made_again(
    tmp_path: Path, cache: Cache, installer: RecordingInstaller
) -> None:
    envs = BuildEnvs(cache, installer)
    python = request(tmp_path).python
    first = envs.get(python, ["a"])
    assert first.root is not None
    (first.root / "kiln-build-env.json").unlink()  # as if killed before it was finished

    second = envs.get(python, ["a"])

    assert second == first
    assert installer.requirement_sets == [("a",), ("a",)]
    assert envs.get(python, ["a"]) == first
    assert len(installer.calls) == 2


def test_failing_installer_leaves_no_env(tmp_path: Path, cache: Cache) -> None:
    class Broken:
        def install(self, requirements: object, python: Path, target: Path) -> None:
            raise BuildError("no such package `a`")

    envs = BuildEnvs(cache, Broken())
    with pytest.raises(BuildError, match="no such package"):
        envs.get(request(tmp_path).python, ["a"])
    assert [p.name for p in envs.root.iterdir() if not p.name.endswith(".lock")] == []


def test_dynamic_requires_get_an_env_of_their_own(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    project = make_project(tmp_path / "demo", requires=("base",), dynamic_requires=("extra>=1",))
    frontend.wheel(request(project.root, extra_build_requirements=("pinned==1",)))
    assert installer.requirement_sets == [("base", "pinned==1"), ("base", "extra>=1", "pinned==1")]


def test_no_isolation_installs_nothing(
    tmp_path: Path, frontend: Frontend, installer: RecordingInstaller
) -> None:
    project = make_project(tmp_path / "demo", requires=("never-installed",))
    wheel = frontend.wheel(request(project.root, isolation=False))
    assert wheel.is_file()
    assert installer.calls == []
    assert project.hooks() == ["build_wheel"]
    assert project.prefixes() == [sys.prefix], "the target interpreter itself ran the hook"


@pytest.mark.parametrize("name", ["missing-1.0.tar.gz", "missing-folder"])
def test_missing_source_is_a_build_error(tmp_path: Path, frontend: Frontend, name: str) -> None:
    with pytest.raises(BuildError, match="missing"):
        frontend.wheel(request(tmp_path / name))
