"""`kiln.toml` and `uv.toml` through the real CLI: user and project files, `--no-config`,
`--config-file`, variables over files, and `kiln.toml` over `uv.toml`.

The index `first` serves foo 1.0 and the index `pypi` foo 2.0, so the version installed says
which file won. Every run gets its own XDG folders: the machine's ~/.config and /etc are
never read (a file in each `XDG_CONFIG_DIRS` place keeps kiln from falling back to /etc).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer
from tests.support.wheels import Pkg

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PY312 = "3.12"  # a version request: kiln finds the interpreter, as for a user
Kiln = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    system = tmp_path / "xdg-dirs"
    for name in ("kiln", "uv"):
        (system / name).mkdir(parents=True)
        (system / name / f"{name}.toml").write_text("")
    (tmp_path / "home").mkdir()
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "XDG_CONFIG_DIRS": str(system),
        "HOME": str(tmp_path / "home"),
    }


@pytest.fixture
def servers(index_server: IndexServer) -> IndexServer:
    index_server.add(Pkg("foo", "1.0"), index="first")
    index_server.add(Pkg("foo", "2.0"))
    return index_server


def user_file(env: dict[str, str], text: str, name: str = "uv") -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / name / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def install(kiln: Kiln, tmp_path: Path, env: dict[str, str]) -> Callable[..., str]:
    """`kiln pip install foo --dry-run` into a fresh venv; the version it would install."""
    venv = tmp_path / "venv"
    kiln("venv", str(venv), "--python", PY312, env=env, check=True)

    def run(*flags: str, extra_env: dict[str, str] | None = None) -> str:
        done = kiln(
            "pip", "install", "foo", "--dry-run", "--python", str(venv), *flags,
            env={**env, **(extra_env or {})}, check=True, cwd=tmp_path,
        )  # fmt: skip
        (line,) = [line for line in done.stderr.splitlines() if line.startswith(" + foo==")]
        return line.removeprefix(" + foo==")

    return run


def test_a_user_uv_toml_sets_the_index_pip_install_uses(
    install: Callable[..., str], servers: IndexServer, env: dict[str, str]
) -> None:
    user_file(env, f'index-url = "{servers.index_url()}"\n')
    assert install() == "2.0"


def test_no_config_ignores_the_files(
    install: Callable[..., str], servers: IndexServer, env: dict[str, str]
) -> None:
    user_file(env, f'extra-index-url = ["{servers.index_url("first")}"]\n')
    default = ("--index-url", servers.index_url())
    assert install(*default) == "1.0"
    assert install(*default, "--no-config") == "2.0"
    assert install(*default, extra_env={"KILN_NO_CONFIG": "1"}) == "2.0"


def test_config_file_is_the_only_file_read(
    install: Callable[..., str], servers: IndexServer, env: dict[str, str], tmp_path: Path
) -> None:
    user_file(env, f'index-url = "{servers.index_url("first")}"\n')
    other = tmp_path / "other.toml"
    other.write_text(f'index-url = "{servers.index_url()}"\n')
    assert install() == "1.0"
    assert install("--config-file", str(other)) == "2.0"
    assert install(extra_env={"UV_CONFIG_FILE": str(other)}) == "2.0"


def test_kiln_index_url_beats_the_file(
    install: Callable[..., str], servers: IndexServer, env: dict[str, str]
) -> None:
    user_file(env, f'index-url = "{servers.index_url("first")}"\n')
    assert install(extra_env={"KILN_INDEX_URL": servers.index_url()}) == "2.0"


def test_kiln_toml_beats_uv_toml_at_the_same_level(
    install: Callable[..., str], servers: IndexServer, env: dict[str, str]
) -> None:
    user_file(env, f'index-url = "{servers.index_url("first")}"\n')
    user_file(env, f'index-url = "{servers.index_url()}"\n', name="kiln")
    assert install() == "2.0"


def test_a_project_uv_toml_is_used_by_lock_over_the_pyproject_beside_it(
    kiln: Kiln, servers: IndexServer, env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.12"\n'
        'dependencies = ["foo"]\n'
        f'[tool.uv]\nindex-url = "{servers.index_url()}"\n'
    )
    (project / "uv.toml").write_text(f'index-url = "{servers.index_url("first")}"\n')
    done = kiln("lock", cwd=project, env=env, check=True)
    assert "index-url" in done.stderr  # the hidden `[tool.uv]` setting is named
    lock = tomllib.loads((project / "pylock.toml").read_text())
    assert {p["name"]: p["version"] for p in lock["packages"]}["foo"] == "1.0"


def test_a_key_kiln_cannot_honour_fails_naming_the_file(
    kiln: Kiln, env: dict[str, str], tmp_path: Path
) -> None:
    path = user_file(env, "no-build = true\n")
    done = kiln("pip", "compile", "-", env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert str(path) in done.stderr and "`no-build`" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pip_setting_in_a_file_is_refused_by_the_pip_verbs_and_left_to_them(
    kiln, index_server: IndexServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\ndependencies = []\n\n'
        '[tool.uv.pip]\npython-platform = "windows"\n'
    )
    (root / "requirements.in").write_text("six\n")
    done = kiln(
        "pip", "compile", "requirements.in", "--index-url", index_server.index_url(), cwd=root
    )
    assert done.returncode != 0
    assert "`tool.uv.pip.python-platform` in" in done.stderr
    # The project verbs never read `[tool.uv.pip]`, as in uv.
    kiln("lock", "--project", str(root), "--default-index", index_server.index_url(), check=True)
