"""Bad input is one short `error:` naming the file (and line where there is one) with a hint;
never a traceback."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer

Kiln = Callable[..., "subprocess.CompletedProcess[str]"]
HEAD = '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\n'

# case, pyproject.toml, command after `kiln`, what the error says
CASES: list[tuple[str, str, list[str], list[str]]] = [
    (
        "malformed-toml",
        HEAD + 'dependencies = ["numpy"\n[tool.uv]\n',
        ["lock"],
        ["pyproject.toml", "line 6"],
    ),
    (
        "bad-requirement",
        HEAD + 'dependencies = ["numpy>>2"]\n',
        ["lock"],
        ["numpy>>2", "project.dependencies"],
    ),
    (
        "requirement-not-a-string",
        HEAD + 'dependencies = [1, "numpy"]\n',
        ["lock"],
        ["`project.dependencies` has `1`, which is not a requirement string"],
    ),
    (
        "group-item-neither-string-nor-include",
        HEAD + "dependencies = []\n[dependency-groups]\ndev = [{ foo = 1 }, 5]\n",
        ["lock"],
        ["a table there must be `{ include-group", "`dependency-groups.dev` has `5`"],
    ),
    (
        "unknown-index-name",
        HEAD + 'dependencies = ["torch"]\n[tool.uv.sources]\ntorch = { index = "nowhere" }\n',
        ["lock"],
        ["nowhere"],
    ),
    (
        "overlapping-source-markers",
        HEAD
        + 'dependencies = ["torch"]\n[tool.uv.sources]\ntorch = [\n'
        + '  { index = "a", marker = "sys_platform == \'linux\'" },\n'
        + '  { index = "b", marker = "python_version >= \'3.10\'" },\n]\n'
        + '[[tool.uv.index]]\nname = "a"\nurl = "https://a.invalid/simple"\nexplicit = true\n'
        + '[[tool.uv.index]]\nname = "b"\nurl = "https://b.invalid/simple"\nexplicit = true\n',
        ["lock"],
        ["more than one source of `torch` applies to the same environment"],
    ),
    (
        "conflicting-extras-together",
        HEAD
        + "dependencies = []\n[project.optional-dependencies]\ncpu = []\ngpu = []\n"
        + '[tool.uv]\nconflicts = [[{ extra = "cpu" }, { extra = "gpu" }]]\n',
        ["sync", "--extra", "cpu", "--extra", "gpu"],
        ["extra `cpu` and extra `gpu` cannot be installed together"],
    ),
    (
        "unknown-torch-backend",
        HEAD + 'dependencies = ["torch"]\n',
        ["lock", "--torch-backend", "cu999x"],
        ["cu999x"],
    ),
    (
        "wrong-type-table",
        HEAD + "dependencies = []\n[tool]\nuv = 3\n",
        ["lock"],
        ["tool.uv", "must be a table"],
    ),
    (
        "bad-requirement-to-add",
        HEAD + "dependencies = []\n",
        ["add", "foo>>1"],
        ["foo>>1", "not a valid requirement"],
    ),
]


@pytest.mark.parametrize(("case", "text", "command", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_short_clear_error(
    kiln: Kiln,
    index_server: IndexServer,
    tmp_path: Path,
    case: str,
    text: str,
    command: list[str],
    says: list[str],
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(text)
    done = kiln(*command, "--default-index", index_server.index_url(), cwd=root)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:") or "\nerror:" in done.stderr, done.stderr
    for words in says:
        assert words in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) <= 12, done.stderr


def test_a_damaged_lock_is_an_error_that_says_how_to_remake_it(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(HEAD + "dependencies = []\n")
    (root / "pylock.toml").write_text('lock-version = "1.0"\n[[packages]\nname = "x"\n')
    done = kiln("sync", "--frozen", cwd=root)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "pylock.toml" in done.stderr and "hint:" in done.stderr


def test_an_unreadable_requirements_line_names_file_and_line(
    kiln: Kiln, index_server: IndexServer, tmp_path: Path
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text('numpy\n-c "unclosed\n')
    done = kiln(
        "pip", "install", "-r", str(req), "--dry-run", "--index-url", index_server.index_url()
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"{req}:2" in done.stderr and "hint:" in done.stderr
