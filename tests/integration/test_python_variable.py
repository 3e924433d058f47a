"""`KILN_PYTHON` (then uv's `UV_PYTHON`) chooses the interpreter where `--python` is not given."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.index_server import IndexServer


@pytest.mark.parametrize("variable", ["KILN_PYTHON", "UV_PYTHON"])
def test_the_variable_picks_the_project_interpreter(
    kiln, index_server: IndexServer, tmp_path: Path, variable: str
) -> None:  # type: ignore[no-untyped-def]
    found = kiln("python", "find", "3.11")
    if found.returncode != 0:
        pytest.skip("no CPython 3.11 here")
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.10"\ndependencies = []\n'
    )
    env = {variable: "3.11", "KILN_DEFAULT_INDEX": index_server.index_url()}
    kiln("sync", "--project", str(root), env=env, check=True)
    config = (root / ".venv" / "pyvenv.cfg").read_text()
    assert "version_info = 3.11" in config or "version = 3.11" in config, config
