"""`extra-build-dependencies`, `--no-build-isolation` and `no-build-isolation-package`: a
backend that needs a module its `[build-system]` does not list builds only where kiln is
told how to provide it."""

from __future__ import annotations

from pathlib import Path

from tests.support.backends import src_backend
from tests.support.index_server import IndexServer
from tests.support.venvs import installed_versions
from tests.support.wheels import Pkg


def make_lib(folder: Path) -> Path:
    """`lib`, whose backend imports `extra_tool`, which its build requirements omit."""
    (folder / "src" / "lib").mkdir(parents=True)
    (folder / "src" / "lib" / "__init__.py").write_text("VALUE = 1\n")
    (folder / "backend.py").write_text(
        "import extra_tool  # noqa: F401\n" + src_backend("lib", "0.3.0")
    )
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "0.3.0"\n\n'
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    return folder


def make_app(root: Path, uv: str = "") -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.12"\n'
        'dependencies = ["lib"]\n\n[tool.uv.sources]\nlib = { path = "../lib" }\n\n'
        f"[tool.uv]\n{uv}\n"
    )
    return root


def lock(kiln, root: Path, server: IndexServer, *args: str):  # type: ignore[no-untyped-def]
    return kiln(
        "sync", "--project", str(root), "--python", "3.12",
        "--default-index", server.index_url(), *args,
    )  # fmt: skip


def test_the_backend_error_shows_when_its_module_is_missing(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("extra-tool", "1.0", files={"extra_tool.py": "X = 1\n"}))
    make_lib(tmp_path / "lib")
    root = make_app(tmp_path / "app")
    done = lock(kiln, root, index_server)
    assert done.returncode != 0
    assert "No module named 'extra_tool'" in done.stderr
    assert not (root / "pylock.toml").exists()


def test_extra_build_dependencies_are_installed_into_the_build_environment(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("extra-tool", "1.0", files={"extra_tool.py": "X = 1\n"}))
    make_lib(tmp_path / "lib")
    root = make_app(tmp_path / "app", 'extra-build-dependencies = { lib = ["extra-tool"] }')
    done = lock(kiln, root, index_server)
    assert done.returncode == 0, done.stderr
    assert installed_versions(root / ".venv") == {"lib": "0.3.0"}


def test_without_isolation_the_build_uses_what_the_environment_has(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("extra-tool", "1.0", files={"extra_tool.py": "X = 1\n"}))
    make_lib(tmp_path / "lib")
    root = make_app(tmp_path / "app", 'no-build-isolation-package = ["lib"]')
    # Not installed yet: the non-isolated build cannot import it either.
    failed = lock(kiln, root, index_server)
    assert failed.returncode != 0 and "No module named 'extra_tool'" in failed.stderr
    kiln("venv", str(root / ".venv"), "--python", "3.12", "--allow-existing", check=True)
    kiln(
        "pip", "install", "extra-tool", "--python", str(root / ".venv"),
        "--default-index", index_server.index_url(), check=True,
    )  # fmt: skip
    done = lock(kiln, root, index_server, "--inexact")
    assert done.returncode == 0, done.stderr
    assert installed_versions(root / ".venv") == {"lib": "0.3.0", "extra-tool": "1.0"}

    # The flag does the same for every package, with the setting gone.
    make_app_again = root / "pyproject.toml"
    make_app_again.write_text(make_app_again.read_text().replace(
        'no-build-isolation-package = ["lib"]', ""
    ))  # fmt: skip
    (root / "pylock.toml").unlink()
    flagged = lock(kiln, root, index_server, "--inexact", "--no-build-isolation")
    assert flagged.returncode == 0, flagged.stderr


def test_a_setting_of_the_wrong_shape_is_an_error_naming_it(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    make_lib(tmp_path / "lib")
    root = make_app(
        tmp_path / "app",
        'extra-build-dependencies = { lib = [{ requirement = "x", match-runtime = true }] }',
    )
    done = lock(kiln, root, index_server)
    assert done.returncode != 0
    assert "tool.uv.extra-build-dependencies.lib" in done.stderr and "match-runtime" in done.stderr
    assert "Traceback" not in done.stderr
