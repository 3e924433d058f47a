"""The project itself in its `.venv`: built by its own backend, installed editable, kept
across syncs, and left out when `tool.uv.package = false` or `--no-install-project`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.backends import src_backend
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions, python_of
from tests.support.wheels import Pkg

# Built with nothing from an index; its console script tells an install apart from none.
BACKEND = src_backend("mine", "0.3.0", ["dep"], {"mine-hello": "mine:hello"})

PYPROJECT = """[project]
name = "mine"
version = "0.3.0"
requires-python = ">=3.12"
dependencies = ["dep"]

[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def make_project(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "mine"
    (root / "src" / "mine").mkdir(parents=True)
    (root / "src" / "mine" / "__init__.py").write_text("def hello():\n    print('hello')\n")
    (root / "backend.py").write_text(BACKEND)
    (root / "pyproject.toml").write_text(PYPROJECT + extra)
    return root


def sync(kiln, root: Path, server: IndexServer, *args: str):  # type: ignore[no-untyped-def]
    return kiln(
        "sync", "--project", str(root), "--python", "3.12",
        "--default-index", server.index_url(), *args, check=True,
    )  # fmt: skip


def script(root: Path) -> str:
    done = subprocess.run(
        [str(root / ".venv" / "bin" / "mine-hello")], capture_output=True, text=True
    )
    return done.stdout.strip() or done.stderr


def test_the_project_is_installed_editable_and_kept(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0"))
    root = make_project(tmp_path)
    sync(kiln, root, index_server)
    assert installed_versions(root / ".venv") == {"mine": "0.3.0", "dep": "1.0"}
    assert 'directory = { path = ".", editable = true }' in (root / "pylock.toml").read_text()
    assert script(root) == "hello"

    # Editable: an edit is seen without a sync, and the next sync builds nothing.
    (root / "src" / "mine" / "__init__.py").write_text("def hello():\n    print('edited')\n")
    assert script(root) == "edited"
    again = sync(kiln, root, index_server)
    assert "Installed" not in again.stderr and "+ mine" not in again.stderr

    regular = sync(kiln, root, index_server, "--no-editable")
    assert "+ mine==0.3.0" in regular.stderr
    done = subprocess.run(
        [str(python_of(root / ".venv")), "-c", "import mine; print(mine.__file__)"],
        capture_output=True,
        text=True,
    )
    assert "site-packages" in done.stdout, "a regular install is a copy, not the folder"


def test_package_false_and_no_install_project_leave_it_out(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0"))
    root = make_project(tmp_path, "\n[tool.uv]\npackage = false\n")
    sync(kiln, root, index_server)
    assert installed_versions(root / ".venv") == {"dep": "1.0"}
    assert "directory" not in (root / "pylock.toml").read_text()

    other = make_project(tmp_path / "second")
    sync(kiln, other, index_server, "--no-install-project")
    assert installed_versions(other / ".venv") == {"dep": "1.0"}


def test_a_failing_build_names_the_backend_error_and_keeps_the_environment(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("dep", "1.0"))
    root = make_project(tmp_path, "\n[tool.uv]\npackage = false\n")
    sync(kiln, root, index_server)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "backend.py").write_text(
        "def build_editable(*a, **k):\n    raise RuntimeError('the compiler is on fire')\n"
    )
    done = kiln(
        "sync", "--project", str(root), "--python", "3.12",
        "--default-index", index_server.index_url(),
    )  # fmt: skip
    assert done.returncode != 0
    assert "the compiler is on fire" in done.stderr
    # The backend's own traceback is its output; none of kiln's may show.
    assert done.stderr.startswith("error:")
    assert "kiln/commands" not in done.stderr and "kiln/build" not in done.stderr
    assert installed_versions(root / ".venv") == {"dep": "1.0"}
