"""Discovery against pyenv's real installs, with PATH narrowed to a folder each test fills."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import InterpreterError
from kiln.python.discovery import find_interpreter, find_target_environment, list_interpreters

from .conftest import PYENV_ROOT, installed_versions, link, pyenv_python, stdlib_venv


def newest(minor: str | None = None) -> tuple[int, int, int]:
    versions = [
        v
        for v in installed_versions()
        if v.release >= (3, 8) and (minor is None or f"{v.major}.{v.minor}" == minor)
    ]
    if not versions:
        pytest.skip(f"no CPython {minor or '3.8+'} in pyenv")
    top = versions[-1]
    return (top.major, top.minor, top.micro)


@pytest.mark.parametrize(
    ("request_text", "minor"),
    [
        ("3.8", "3.8"),
        ("3.9", "3.9"),
        ("3.10", "3.10"),
        ("3.11", "3.11"),
        ("3.12", "3.12"),
        ("3.13", "3.13"),
        ("cpython@3.10", "3.10"),
        ("cp311", "3.11"),
        (">=3.11,<3.13", "3.12"),
        ("3", None),
    ],
)
def test_version_request_finds_newest_matching_pyenv_install(
    search_path: Path, shared_cache: Cache, request_text: str, minor: str | None
) -> None:
    expected = newest(minor)
    found = find_interpreter(request_text, shared_cache)
    assert found.version == expected
    assert found.executable.is_relative_to(PYENV_ROOT / "versions")
    assert not found.is_virtualenv


def test_exact_version_request_finds_that_patch_release(
    search_path: Path, shared_cache: Cache
) -> None:
    version = ".".join(map(str, newest("3.12")))
    assert find_interpreter(version, shared_cache).version_str == version


def test_path_wins_over_pyenv_for_a_version_present_in_both(
    search_path: Path, shared_cache: Cache
) -> None:
    on_path = link(pyenv_python("3.11"), search_path / "python3")
    found = find_interpreter("3.11", shared_cache)
    assert found.executable == on_path


def test_no_request_takes_first_python3_on_path_unresolved(
    tmp_path: Path, search_path: Path, shared_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = link(pyenv_python("3.10"), tmp_path / "first" / "python3")
    link(pyenv_python("3.11"), tmp_path / "second" / "python3")
    monkeypatch.setenv("PATH", f"{tmp_path / 'first'}:{tmp_path / 'second'}")
    found = find_interpreter(None, shared_cache)
    assert found.executable == first
    assert found.version[:2] == (3, 10)


def test_pyenv_shims_on_path_are_skipped(
    tmp_path: Path, search_path: Path, shared_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    shims = tmp_path / ".pyenv" / "shims"
    shims.mkdir(parents=True)
    shim = shims / "python3"
    shim.write_text("#!/bin/sh\necho shim >&2\nexit 1\n")
    shim.chmod(0o755)
    real = link(pyenv_python("3.9"), search_path / "python3")
    monkeypatch.setenv("PATH", f"{shims}:{search_path}")
    assert find_interpreter(None, shared_cache).executable == real


def test_name_request_finds_that_executable_on_path(search_path: Path, shared_cache: Cache) -> None:
    named = link(pyenv_python("3.9"), search_path / "python3.9")
    found = find_interpreter("python3.9", shared_cache)
    assert found.executable == named
    assert found.version[:2] == (3, 9)


def test_name_request_falls_back_to_pyenv_bin_folders(
    search_path: Path, shared_cache: Cache
) -> None:
    found = find_interpreter("python3.10", shared_cache)
    assert found.version[:2] == (3, 10)
    assert found.executable.name == "python3.10"


def test_path_request_keeps_the_path_as_given(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    alias = link(pyenv_python("3.12"), tmp_path / "elsewhere" / "my-python")
    found = find_interpreter(str(alias), shared_cache)
    assert found.executable == alias
    assert found.base_executable == alias.resolve()
    assert found.version[:2] == (3, 12)


def test_installation_folder_request_uses_its_bin_python(
    search_path: Path, shared_cache: Cache
) -> None:
    installation = pyenv_python("3.11").parent.parent
    found = find_interpreter(str(installation), shared_cache)
    assert found.executable == installation / "bin" / "python"
    assert found.prefix == installation


def test_venv_folder_request_returns_the_venv(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    venv = stdlib_venv(pyenv_python("3.12"), tmp_path / "env")
    found = find_interpreter(str(venv), shared_cache)
    assert found.is_virtualenv
    assert found.executable == venv / "bin" / "python"
    assert found.prefix == venv
    assert found.base_prefix == pyenv_python("3.12").parent.parent


def test_missing_version_error_lists_found_interpreters_and_hint(
    search_path: Path, shared_cache: Cache
) -> None:
    with pytest.raises(InterpreterError) as caught:
        find_interpreter("3.99", shared_cache)
    error = caught.value
    assert "3.99" in error.message
    python312 = pyenv_python("3.12")
    version = ".".join(map(str, newest("3.12")))
    assert f"CPython {version} at {python312}" in error.causes
    assert error.hint is not None
    assert "install CPython 3.99" in error.hint
    assert "--python PATH" in error.hint


def test_too_old_pythons_are_neither_chosen_nor_listed(
    search_path: Path, shared_cache: Cache
) -> None:
    if not any(v.release < (3, 8) for v in installed_versions()):
        pytest.skip("no python older than 3.8 in pyenv")
    listed = list_interpreters(shared_cache)
    assert listed
    assert all(interpreter.version >= (3, 8) for interpreter in listed)
    with pytest.raises(InterpreterError):
        find_interpreter("3.7", shared_cache)


def test_list_interpreters_dedupes_by_resolved_binary(
    search_path: Path, shared_cache: Cache
) -> None:
    binary = pyenv_python("3.12").resolve()
    link(binary, search_path / "python3")
    listed = list_interpreters(shared_cache)
    same = [i for i in listed if i.executable.resolve() == binary]
    assert len(same) == 1
    assert same[0].executable == search_path / "python3"


def test_broken_path_request_is_an_interpreter_error(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    with pytest.raises(InterpreterError, match="no python at"):
        find_interpreter(str(tmp_path / "nothing" / "python"), shared_cache)
    with pytest.raises(InterpreterError, match="no python in"):
        find_interpreter(str(tmp_path), shared_cache)


# The environment `kiln pip` acts on.


def test_target_is_the_active_virtual_env(
    tmp_path: Path, search_path: Path, shared_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = stdlib_venv(pyenv_python("3.11"), tmp_path / "active")
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    found = find_target_environment(None, system=False, cwd=tmp_path, cache=shared_cache)
    assert found.prefix == venv


def test_target_is_dot_venv_in_cwd_or_a_parent(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    project = tmp_path / "project"
    venv = stdlib_venv(pyenv_python("3.10"), project / ".venv")
    cwd = project / "src" / "pkg"
    cwd.mkdir(parents=True)
    found = find_target_environment(None, system=False, cwd=cwd, cache=shared_cache)
    assert found.prefix == venv
    assert found.is_virtualenv


def test_python_flag_wins_over_the_active_env(
    tmp_path: Path, search_path: Path, shared_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "ignored"))
    found = find_target_environment("3.9", system=False, cwd=tmp_path, cache=shared_cache)
    assert found.version[:2] == (3, 9)


def test_system_flag_takes_the_first_python_on_path(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    stdlib_venv(pyenv_python("3.10"), tmp_path / ".venv")
    on_path = link(pyenv_python("3.13"), search_path / "python3")
    found = find_target_environment(None, system=True, cwd=tmp_path, cache=shared_cache)
    assert found.executable == on_path


def test_no_environment_error_suggests_kiln_venv(
    tmp_path: Path, search_path: Path, shared_cache: Cache
) -> None:
    with pytest.raises(InterpreterError) as caught:
        find_target_environment(None, system=False, cwd=tmp_path, cache=shared_cache)
    assert caught.value.message == "no virtual environment found"
    assert caught.value.hint is not None
    assert "kiln venv" in caught.value.hint
    assert "--system" in caught.value.hint


def test_active_env_that_vanished_is_named_in_the_error(
    tmp_path: Path, search_path: Path, shared_cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    monkeypatch.setenv("VIRTUAL_ENV", str(gone))
    with pytest.raises(InterpreterError, match="VIRTUAL_ENV"):
        find_target_environment(None, system=False, cwd=tmp_path, cache=shared_cache)
