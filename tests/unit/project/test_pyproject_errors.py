"""`pyproject.toml` mistakes reported where they are: the file, the table, the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.project.pyproject import PyprojectError, load_pyproject


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_toml_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "p"\nver sion = "0.1.0"\n')
    with pytest.raises(PyprojectError) as caught:
        load_pyproject(path)
    error = caught.value
    assert error.message == f"`{path}` is not valid TOML (line 3, column 5)"
    assert error.causes[0] == ("Expected '=' after a key in a key/value pair (at line 3, column 5)")
    assert 'line 3: ver sion = "0.1.0"' in error.causes
    assert error.hint is not None
    assert "caused by: Expected '='" in error.render()


def test_toml_error_at_the_end_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[project]\nname = "p\n')
    with pytest.raises(PyprojectError) as caught:
        load_pyproject(path)
    assert caught.value.message.startswith(f"`{path}` is not valid TOML")
    assert caught.value.causes and caught.value.hint


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nversion = "0.1.0"\n',
        "[project]\n",
        '[project]\nversion = "0"\n\n[tool.uv]\npackage = false\n',
    ],
)
def test_project_table_without_name_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PyprojectError) as caught:
        load_pyproject(path)
    assert caught.value.message == f"`[project]` in `{path}` has no `name`"
    assert caught.value.hint is not None and "name" in caught.value.hint


def test_name_must_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "[project]\nname = 3\n")
    with pytest.raises(PyprojectError) as caught:
        load_pyproject(path)
    assert "`project.name` must be a string, not `3`" in caught.value.causes


def test_no_project_table_is_still_a_project(tmp_path: Path) -> None:
    # uv locks a file with only `[dependency-groups]`; so does kiln.
    project = load_pyproject(write(tmp_path, '[dependency-groups]\ndev = ["pytest"]\n'))
    assert project.name is None
    assert [str(r) for r in project.dependency_groups["dev"]] == ["pytest"]
