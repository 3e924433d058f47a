"""A source kiln cannot serve yet is an error naming it: never the index's package instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

PROJECT = """[project]
name = "p"
version = "0"
requires-python = ">=3.12"
dependencies = ["six"]

[tool.uv.sources]
six = {source}
"""


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ('{ path = "../localsix" }', "path = `../localsix`"),
        ('{ git = "https://example.invalid/six.git", tag = "1.0" }', "git = `https://"),
        ('{ url = "https://example.invalid/six-1.0.tar.gz" }', "url = `https://"),
        ("{ workspace = true }", "a workspace member"),
    ],
)
def test_a_non_index_source_fails_the_lock_instead_of_taking_the_index_package(
    kiln, index_server: IndexServer, tmp_path: Path, source: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"))
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT.format(source=source))
    done = kiln("lock", "--project", str(root), "--default-index", index_server.index_url())
    assert done.returncode == 2, done.stderr
    assert f"`six` comes from {words}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "pylock.toml").exists()


def test_adding_a_url_requirement_is_refused_and_leaves_the_project_as_it_was(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    index_server.add(Pkg("six", "1.16.0"), Pkg("six", "1.17.0"))
    root = tmp_path / "project"
    root.mkdir()
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[project]\nname = "p"\nversion = "0"\ndependencies = []\n')
    before = pyproject.read_bytes()
    url = index_server.file_url("six-1.16.0-py3-none-any.whl")
    done = kiln(
        "add", f"six @ {url}", "--project", str(root), "--default-index", index_server.index_url()
    )
    assert done.returncode == 2
    assert "points at a URL, and kiln does not lock direct references yet" in done.stderr
    assert "Traceback" not in done.stderr
    assert pyproject.read_bytes() == before
    assert not (root / "pylock.toml").exists()
