from __future__ import annotations

from pathlib import Path

import pytest

from kiln.core.errors import UsageError
from kiln.python.request import (
    AnyPython,
    NameRequest,
    PathRequest,
    VersionRequest,
    parse_request,
)


@pytest.mark.parametrize("text", [None, "", "any"])
def test_no_request_asks_for_any_python(text: str | None) -> None:
    assert parse_request(text) == AnyPython()


@pytest.mark.parametrize(
    ("text", "implementation", "admits", "refuses"),
    [
        ("3", None, ["3.8.18", "3.13.0"], ["2.7.18"]),
        ("3.12", None, ["3.12.0", "3.12.7"], ["3.11.9", "3.13.0"]),
        ("3.12.1", None, ["3.12.1"], ["3.12.0", "3.12.2"]),
        (">=3.11,<3.13", None, ["3.11.0", "3.12.9"], ["3.10.13", "3.13.0"]),
        ("cpython@3.12", "cpython", ["3.12.1"], ["3.11.7"]),
        ("cpython3.12", "cpython", ["3.12.1"], ["3.11.7"]),
        ("cp312", "cpython", ["3.12.1"], ["3.1.2", "3.11.7"]),
        ("pypy@3.10", "pypy", ["3.10.14"], ["3.9.0"]),
        ("cpython@>=3.11", "cpython", ["3.13.0"], ["3.10.0"]),
        ("pypy3", "pypy", ["3.10.14"], ["2.7.18"]),
    ],
)
def test_version_requests_admit_their_series_only(
    text: str, implementation: str | None, admits: list[str], refuses: list[str]
) -> None:
    request = parse_request(text)
    assert isinstance(request, VersionRequest)
    assert request.implementation == implementation
    impl = implementation or "cpython"
    for version in admits:
        assert request.matches(tuple(map(int, version.split("."))), impl), version
    for version in refuses:
        assert not request.matches(tuple(map(int, version.split("."))), impl), version


def test_implementation_must_match_when_named() -> None:
    request = parse_request("pypy@3.10")
    assert isinstance(request, VersionRequest)
    assert not request.matches((3, 10, 13), "cpython")


@pytest.mark.parametrize("text", ["python3.12", "python", "python3-dbg"])
def test_executable_names_are_looked_up_by_name(text: str) -> None:
    assert parse_request(text) == NameRequest(text)


@pytest.mark.parametrize("text", ["./.venv", ".venv", "/usr/bin/python3", "venvs/py312", "~/x"])
def test_paths_are_path_requests(text: str) -> None:
    request = parse_request(text)
    assert isinstance(request, PathRequest)
    assert request.path == Path(text).expanduser()


def test_bad_specifier_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError, match=r">=3\.x"):
        parse_request(">=3.x")


def test_display_names_what_to_install() -> None:
    request = parse_request("3.14")
    assert isinstance(request, VersionRequest)
    assert request.display == "CPython 3.14"


def test_an_existing_folder_named_plainly_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "demo").mkdir()
    monkeypatch.chdir(tmp_path)
    assert parse_request("demo") == PathRequest(Path("demo"))
    assert parse_request("python3.99") == NameRequest("python3.99")
