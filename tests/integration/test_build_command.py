"""`kiln build` with an in-tree backend that needs nothing installed, so no index is reached:
the files uv's `build` would write, where it would write them, in its words."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path

from tests.support.index_server import IndexServer
from tests.support.venvs import python_of
from tests.support.wheels import Pkg

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user

# A backend of the standard library only: sdists carry PKG-INFO and the package, wheels
# METADATA, WHEEL and RECORD. `FAIL_BUILD` in the environment makes every build fail, and
# the config settings it is given are written into the package, so a test can read them back.
_BACKEND = """\
import base64, hashlib, io, os, sys, tarfile, zipfile

NAME, VERSION = "buildme", "0.1.0"
META = f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n"
SOURCES = ("pyproject.toml", "mybackend.py", "buildme/__init__.py")


def _check(config_settings):
    print("mybackend: config", config_settings)
    if os.environ.get("FAIL_BUILD"):
        print("mybackend: this package cannot be built here", file=sys.stderr)
        raise SystemExit(3)


def build_sdist(sdist_directory, config_settings=None):
    _check(config_settings)
    top = f"{NAME}-{VERSION}"
    with tarfile.open(os.path.join(sdist_directory, top + ".tar.gz"), "w:gz") as tar:
        for rel in SOURCES:
            tar.add(rel, arcname=f"{top}/{rel}")
        info = tarfile.TarInfo(f"{top}/PKG-INFO")
        info.size = len(META)
        tar.addfile(info, io.BytesIO(META.encode()))
    return top + ".tar.gz"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _check(config_settings)
    info = f"{NAME}-{VERSION}.dist-info"
    with open("buildme/__init__.py", "rb") as f:
        source = f.read()
    files = {
        "buildme/__init__.py": source,
        "buildme/_config.py": f"CONFIG = {dict(config_settings or {})!r}\\n".encode(),
        f"{info}/METADATA": META.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: mybackend\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = ""
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\\n"
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\\n").encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return name
"""

SDIST = "buildme-0.1.0.tar.gz"
WHEEL = "buildme-0.1.0-py3-none-any.whl"


def make_project(root: Path) -> Path:
    (root / "buildme").mkdir(parents=True)
    (root / "buildme" / "__init__.py").write_text("VALUE = 42\n")
    (root / "mybackend.py").write_text(_BACKEND)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "buildme"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n\n'
        '[build-system]\nrequires = []\nbuild-backend = "mybackend"\nbackend-path = ["."]\n'
    )
    (root / ".python-version").write_text("3.12\n")
    return root


def built_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_default_builds_the_sdist_then_a_wheel_from_it_and_the_wheel_installs(
    kiln, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    done = kiln("build", cwd=project, check=True)
    assert done.stderr.splitlines() == [
        "Building source distribution...",
        "Building wheel from source distribution...",
        f"Successfully built dist/{SDIST}",
        f"Successfully built dist/{WHEEL}",
    ]
    dist = project / "dist"
    assert built_files(dist) == sorted([SDIST, WHEEL])
    assert (dist / ".gitignore").read_text() == "*"
    with tarfile.open(dist / SDIST) as tar:
        assert "buildme-0.1.0/PKG-INFO" in tar.getnames()
    with zipfile.ZipFile(dist / WHEEL) as zf:
        assert "buildme-0.1.0.dist-info/RECORD" in zf.namelist()

    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", PY312, check=True)
    kiln("pip", "install", str(dist / WHEEL), "--python", str(venv), "--no-index", check=True)
    imported = subprocess.run(
        [str(python_of(venv)), "-c", "import buildme; print(buildme.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "42"


def test_sdist_only(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    done = kiln("build", "proj", "--sdist", cwd=tmp_path, check=True)
    assert done.stderr.splitlines() == [
        "Building source distribution...",
        f"Successfully built proj/dist/{SDIST}",
    ]
    assert built_files(project / "dist") == [SDIST]


def test_wheel_only_from_the_folder_with_config_settings(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    done = kiln("build", str(project), "--wheel", "-C", "mode=fast", cwd=tmp_path, check=True)
    assert done.stderr.splitlines() == [
        "Building wheel...",
        f"Successfully built proj/dist/{WHEEL}",
    ]
    assert built_files(project / "dist") == [WHEEL]
    with zipfile.ZipFile(project / "dist" / WHEEL) as zf:
        assert zf.read("buildme/_config.py") == b"CONFIG = {'mode': 'fast'}\n"


def test_wheel_of_an_sdist_lands_beside_it(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    kiln("build", "--sdist", cwd=project, check=True)
    sdist = project / "dist" / SDIST
    refused = kiln("build", str(sdist), cwd=tmp_path)
    assert refused.returncode == 2
    assert "--wheel" in refused.stderr
    assert "Traceback" not in refused.stderr
    done = kiln("build", "--wheel", "proj/dist/" + SDIST, cwd=tmp_path, check=True)
    assert done.stderr.splitlines() == [
        "Building wheel from source distribution...",
        f"Successfully built proj/dist/{WHEEL}",
    ]
    assert built_files(project / "dist") == sorted([SDIST, WHEEL])


def test_out_dir_with_both_flags_builds_each_from_the_folder(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    out = tmp_path / "out"
    done = kiln("build", "--sdist", "--wheel", "--out-dir", str(out), cwd=project, check=True)
    assert done.stderr.splitlines() == [
        "Building source distribution...",
        "Building wheel...",
        f"Successfully built {out / SDIST}",
        f"Successfully built {out / WHEEL}",
    ]
    assert built_files(out) == sorted([SDIST, WHEEL])
    assert not (project / "dist").exists()


def test_a_failing_backend_shows_its_output_and_exits_non_zero(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "proj")
    done = kiln("build", cwd=project, env={"FAIL_BUILD": "1"})
    assert done.returncode == 2
    assert "Building source distribution..." in done.stderr
    assert f"error: failed to build `{project.resolve()}`" in done.stderr
    assert "this package cannot be built here" in done.stderr
    assert "hint: " in done.stderr
    assert "Traceback" not in done.stderr
    assert built_files(project / "dist") == []


def test_a_missing_folder_is_an_error_naming_it(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = kiln("build", "nowhere", cwd=tmp_path)
    assert done.returncode != 0
    assert "error: source `nowhere` does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_without_a_project_is_an_error_naming_it(kiln, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    done = kiln("build", str(empty), cwd=tmp_path)
    assert done.returncode == 2
    assert f"error: failed to build `{empty.resolve()}`" in done.stderr
    assert "neither `pyproject.toml` nor `setup.py`" in done.stderr
    assert not (empty / "dist").exists()


def test_build_requirements_come_from_the_projects_index(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(
        Pkg("buildhelper", "1.0", files={"buildhelper/__init__.py": "GREETING = 'hi'\n"}),
        index="local",
    )
    project = make_project(tmp_path / "proj")
    backend = project / "mybackend.py"
    # Imported at the top, so the backend fails unless its build environment holds it.
    backend.write_text("import buildhelper\n" + backend.read_text())
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace("requires = []", 'requires = ["buildhelper"]')
        + f'\n[[tool.uv.index]]\nname = "local"\nurl = "{index_server.index_url("local")}"\n'
        "default = true\n"
    )
    kiln("build", "--wheel", cwd=project, check=True)
    assert built_files(project / "dist") == [WHEEL]
