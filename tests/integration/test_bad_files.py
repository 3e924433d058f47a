"""Files kiln cannot read or places it cannot write: one `error:` that names the path and says
what to do, never a traceback; and options that are not spelled out are refused."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
HEAD = '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\n'
NOT_UTF8 = b'\xff\xfe"broken"\n'


def app(tmp_path: Path, text: str = HEAD + "dependencies = []\n") -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(text)
    return root


def failed(done: subprocess.CompletedProcess[str], *says: str) -> None:
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error:") or "\nerror:" in done.stderr, done.stderr
    for words in says:
        assert words in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["pyproject.toml", "pylock.toml", ".python-version"])
def test_a_project_file_that_is_not_utf8_is_named(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path, name: str
) -> None:
    root = app(tmp_path)
    (root / name).write_bytes(NOT_UTF8)
    done = kiln("sync", "--default-index", index_server.index_url(), cwd=root)
    failed(done, f"{name}` is not UTF-8", "hint: save the file as UTF-8")


def test_a_requirements_file_that_is_not_utf8_is_named(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_bytes(NOT_UTF8)
    done = kiln(
        "pip", "install", "-r", str(req), "--dry-run", "--index-url", index_server.index_url()
    )
    failed(done, f"`{req}` is not UTF-8")


def test_a_conflict_item_of_the_wrong_type_is_a_pyproject_error(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    text = HEAD + "dependencies = []\n[project.optional-dependencies]\na = []\nb = []\n"
    text += '[tool.uv]\nconflicts = [[{ extra = 5 }, { extra = "b" }]]\n'
    done = kiln("lock", "--default-index", index_server.index_url(), cwd=app(tmp_path, text))
    failed(done, "tool.uv.conflicts[0]", "`extra` must be a string")


def test_an_invalid_with_requirement_is_refused_before_syncing(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    root = app(tmp_path)
    done = kiln(
        "run", "--with", "bad ===", "--default-index", index_server.index_url(),
        "python", "-c", "pass", cwd=root,
    )  # fmt: skip
    failed(done, "`--with bad ===` is not a valid requirement")
    assert not (root / ".venv").exists() and not (root / "pylock.toml").exists()


@pytest.mark.parametrize(
    ("block", "says"),
    [
        ("# requires-python = 5\n", "`requires-python` must be a string"),
        ('# dependencies = "six"\n', "`dependencies` must be a list"),
        ("# dependencies = [1]\n", "`dependencies` must be a list"),
    ],
)
def test_inline_script_metadata_of_the_wrong_type_is_an_error(
    kiln: Kiln, tmp_path: Path, block: str, says: str
) -> None:
    script = tmp_path / "job.py"
    script.write_text(f"# /// script\n{block}# ///\nprint('ran')\n")
    done = kiln("run", str(script), cwd=tmp_path)
    failed(done, "inline metadata", says)
    assert "ran" not in done.stdout


def test_an_output_path_that_is_a_folder_or_cannot_be_made_is_named(
    kiln: Kiln, torch_server: IndexServer, tmp_path: Path
) -> None:
    root = app(tmp_path)
    index = ["--default-index", torch_server.index_url("pypi")]
    kiln("lock", *index, cwd=root, check=True)
    folder = tmp_path / "out"
    folder.mkdir()
    failed(kiln("export", "-o", str(folder), *index, cwd=root), f"`{folder}", "folder")
    failed(kiln("export", "-o", "/proc/kiln-none/req.txt", *index, cwd=root), "/proc/kiln-none")


def test_a_cache_folder_that_is_a_file_is_named(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "cache-file"
    blocker.write_text("not a folder\n")
    done = kiln(
        "lock", "--default-index", index_server.index_url(),
        cwd=app(tmp_path), env={"KILN_CACHE_DIR": str(blocker)},
    )  # fmt: skip
    failed(done, str(blocker))


def test_an_abbreviated_option_is_not_taken_for_a_longer_one(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    # `--extra` on `lock` is no option; a prefix of `--extra-index-url` must not become one.
    root = app(tmp_path)
    done = kiln("lock", "--extra", "x", "--default-index", index_server.index_url(), cwd=root)
    assert done.returncode == 2 and "unrecognized arguments: --extra x" in done.stderr
    assert not (root / "pylock.toml").exists()


def test_an_index_that_is_neither_a_url_nor_a_folder_is_named(kiln: Kiln, tmp_path: Path) -> None:
    # "pypi.org/simple" without its scheme reads as a relative path: the error says that,
    # where it used to say the package was not found.
    root = app(tmp_path, HEAD + 'dependencies = ["six"]\n')
    done = kiln("lock", "--default-index", "pypi.org/simple", cwd=root)
    failed(done, "index `pypi.org/simple` is not a URL", "no folder `pypi.org/simple` exists")
    assert not (root / "pylock.toml").exists()
    (root / "idx").mkdir()  # a folder that exists but lists nothing: the package is missing
    done = kiln("lock", "--default-index", "idx", cwd=root)
    failed(done, "`six` was not found")
