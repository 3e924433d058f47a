"""`kiln add` refuses what uv refuses before touching a file, and `--marker` narrows the
requirement itself, as in uv."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
PYPROJECT = (
    '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\ndependencies = []\n'
)


def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def test_a_project_is_not_added_to_its_own_dependencies(kiln: Kiln, tmp_path: Path) -> None:
    root = project(tmp_path)
    for args in (["."], ["app"], ["App>=0.1"]):
        done = kiln("add", "--frozen", *args, cwd=root)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "self-dependencies are not permitted" in done.stderr
        assert (root / "pyproject.toml").read_text() == PYPROJECT


def test_marker_narrows_the_added_requirement(kiln: Kiln, tmp_path: Path) -> None:
    root = project(tmp_path)
    kiln("add", "--frozen", "six", "--marker", "python_version >= '3.9'", cwd=root, check=True)
    kiln("add", "--frozen", "idna; os_name == 'posix'", "-m", "sys_platform == 'linux'", cwd=root,
         check=True)  # fmt: skip
    text = (root / "pyproject.toml").read_text()
    assert "\"six ; python_version >= '3.9'\"" in text, text
    assert "os_name == 'posix'" in text and "sys_platform == 'linux'" in text, text


def test_an_invalid_marker_is_refused_and_nothing_is_written(kiln: Kiln, tmp_path: Path) -> None:
    root = project(tmp_path)
    done = kiln("add", "--frozen", "six", "--marker", "nonsense ===", cwd=root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "`--marker nonsense ===` is not a valid marker" in done.stderr
    assert (root / "pyproject.toml").read_text() == PYPROJECT
