from __future__ import annotations

from pathlib import Path

import pytest

from kiln.core.errors import NotFoundError
from kiln.project.requirements_txt import RequirementsFileError, read_requirements


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_reads_requirements_options_comments_and_continuations(tmp_path: Path) -> None:
    req = write(
        tmp_path / "requirements.txt",
        "# a comment\n"
        "--index-url https://example.org/simple\n"
        "--extra-index-url=https://extra.example.org/simple\n"
        "-f wheels\n"
        "requests>=2 \\\n"
        "  ; python_version >= '3.8'  # trailing comment\n"
        "six==1.16.0 --hash=sha256:abc\n",
    )
    parsed = read_requirements(req)
    assert [str(r) for r in parsed.requirements] == [
        'requests>=2; python_version >= "3.8"',
        "six==1.16.0",
    ]
    assert parsed.index_url == "https://example.org/simple"
    assert parsed.extra_index_urls == ["https://extra.example.org/simple"]
    assert parsed.find_links == [str((tmp_path / "wheels").resolve())]
    assert parsed.hashes == {"six": ["sha256:abc"]}


def test_nested_files_resolve_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "base.txt", "idna\n-c constraints.txt\n")
    write(tmp_path / "sub" / "constraints.txt", "idna<4\n")
    top = write(tmp_path / "top.txt", "-r sub/base.txt\ncertifi\n")
    parsed = read_requirements(top)
    assert [r.name for r in parsed.requirements] == ["idna", "certifi"]
    assert [str(r) for r in parsed.constraints] == ["idna<4"]


def test_include_cycles_terminate(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r b.txt\nx\n")
    write(tmp_path / "b.txt", "-r a.txt\ny\n")
    assert sorted(r.name for r in read_requirements(tmp_path / "a.txt").requirements) == ["x", "y"]


def test_wheel_paths_become_direct_references(tmp_path: Path) -> None:
    wheel = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    parsed = read_requirements(write(tmp_path / "r.txt", f"{wheel}\n"))
    (req,) = parsed.requirements
    assert req.name == "demo-pkg"
    assert req.url == wheel.resolve().as_uri()


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.txt", "ok\nnot a requirement!!\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(path)
    assert f"{path}:2" in info.value.render()


def test_folders_and_editable_lines_are_local_requirements_of_that_file(tmp_path: Path) -> None:
    found = read_requirements(write(tmp_path / "r.txt", "-e .\n../lib\ngit+https://h/r.git@v1\n"))
    assert found.requirements == []
    assert [(r.text, r.editable, r.base) for r in found.locations] == [
        (".", True, tmp_path),
        ("../lib", False, tmp_path),
        ("git+https://h/r.git@v1", False, tmp_path),
    ]
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(write(tmp_path / "e.txt", "-e\n"))
    assert info.value.hint


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_requirements(tmp_path / "nope.txt")
