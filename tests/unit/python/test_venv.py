"""Virtual environments kiln writes itself, checked by running their python."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from kiln.cache.layout import Cache
from kiln.core.errors import KilnError
from kiln.python.interpreter import Interpreter, inspect_interpreter
from kiln.python.venv import create_venv

from .conftest import pyenv_python


def run(python: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PIP_FIND_LINKS", "VIRTUAL_ENV")}
    environ.update(PIP_CONFIG_FILE=os.devnull, **env)
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=environ, check=False
    )


def base(minor: str) -> Interpreter:
    return inspect_interpreter(pyenv_python(minor))


@pytest.mark.parametrize("minor", ["3.8", "3.12", "3.13"])
def test_kiln_venv_is_a_virtual_environment_to_its_own_python(tmp_path: Path, minor: str) -> None:
    venv = create_venv(tmp_path / "env", base(minor))
    out = run(venv.executable, "import sys; print(sys.prefix != sys.base_prefix, sys.prefix)")
    assert out.stdout.split() == ["True", str(tmp_path / "env")]


@pytest.mark.parametrize("minor", ["3.8", "3.10", "3.12"])
def test_facts_known_without_running_equal_a_fresh_probe(tmp_path: Path, minor: str) -> None:
    venv = create_venv(tmp_path / "env", base(minor))
    probed = inspect_interpreter(venv.executable)
    assert venv == probed
    assert venv.is_virtualenv and probed.is_virtualenv
    assert venv.venv_scheme == probed.venv_scheme


def test_new_venv_is_cached_so_inspecting_it_spawns_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    interpreter = base("3.12")
    venv = create_venv(tmp_path / "env", interpreter, cache=cache)

    def no_spawn(*args: object, **kwargs: object) -> None:
        raise AssertionError("spawned")

    monkeypatch.setattr(subprocess, "run", no_spawn)
    assert inspect_interpreter(tmp_path / "env" / "bin" / "python", cache) == venv


def test_site_imports_from_the_venv_site_packages(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", base("3.12"))
    (venv.scheme.purelib / "kiln_probe_module.py").write_text("VALUE = 42\n")
    out = run(
        venv.executable,
        "import site, kiln_probe_module; print(site.getsitepackages()[0]); print(kiln_probe_module.VALUE)",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(venv.scheme.purelib), "42"]
    assert venv.site_packages() == (tmp_path / "env" / "lib" / "python3.12" / "site-packages",)


def test_pip_is_there_only_when_seeded(tmp_path: Path) -> None:
    interpreter = base("3.12")
    bare = create_venv(tmp_path / "bare", interpreter)
    assert run(bare.executable, "import pip").returncode != 0
    seeded = create_venv(tmp_path / "seeded", interpreter, seed=True)
    out = subprocess.run(
        [str(seeded.executable), "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert str(seeded.scheme.purelib) in out.stdout


def test_bash_activation_sets_virtual_env_and_deactivate_undoes_it(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    root = tmp_path / "with space's"
    create_venv(root, base("3.12"), prompt="my env")
    script = (
        f"PS1='$ '; source {shlex.quote(str(root / 'bin' / 'activate'))}\n"
        'echo "$VIRTUAL_ENV"; echo "$VIRTUAL_ENV_PROMPT"; command -v python; echo "$PS1"\n'
        'deactivate; echo "[${VIRTUAL_ENV:-}]"; echo "$PS1"\n'
        "type deactivate >/dev/null 2>&1 || echo gone\n"
    )
    out = subprocess.run(
        [bash, "--norc", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    python = str(root / "bin" / "python")
    assert lines == [str(root), "my env", python, "(my env) $ ", "[]", "$ ", "gone"]


def test_layout_matches_what_venv_writes(tmp_path: Path) -> None:
    interpreter = base("3.12")
    root = tmp_path / "env"
    create_venv(root, interpreter)
    cfg = dict(line.split(" = ", 1) for line in (root / "pyvenv.cfg").read_text().splitlines())
    assert cfg["home"] == str(interpreter.base_executable.parent)
    assert cfg["include-system-site-packages"] == "false"
    assert cfg["version"] == interpreter.version_str
    assert cfg["executable"] == str(interpreter.base_executable)
    assert cfg["prompt"] == "env"
    assert "kiln venv" in cfg["command"]
    assert (root / ".gitignore").read_text() == "*\n"
    assert os.readlink(root / "bin" / "python") == str(interpreter.base_executable)
    assert os.readlink(root / "bin" / "python3.12") == "python"
    assert os.readlink(root / "lib64") == "lib"
    for script in ("activate", "activate.fish", "activate.csh"):
        assert str(root) in (root / "bin" / script).read_text()


def test_existing_venv_is_replaced_when_clearing(tmp_path: Path) -> None:
    old = create_venv(tmp_path / "env", base("3.11"))
    leftover = old.scheme.purelib / "leftover.py"
    leftover.write_text("")
    new = create_venv(tmp_path / "env", base("3.12"))
    assert not leftover.exists()
    assert not (tmp_path / "env" / "lib" / "python3.11").exists()
    assert (
        run(new.executable, "import sys; print(sys.version_info[:2])").stdout.strip() == "(3, 12)"
    )


def test_existing_venv_keeps_its_packages_without_clearing(tmp_path: Path) -> None:
    old = create_venv(tmp_path / "env", base("3.12"))
    kept = old.scheme.purelib / "kept.py"
    kept.write_text("")
    create_venv(tmp_path / "env", base("3.12"), clear=False)
    assert kept.exists()


def test_folder_that_is_not_a_venv_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "important.txt").write_text("keep me")
    with pytest.raises(
        KilnError, match=r"project` exists and is not a virtual environment"
    ) as caught:
        create_venv(folder, base("3.12"))
    assert caught.value.hint is not None
    assert (folder / "important.txt").read_text() == "keep me"


def test_empty_folder_becomes_the_venv(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    venv = create_venv(tmp_path / "empty", base("3.12"))
    assert (tmp_path / "empty" / "pyvenv.cfg").is_file()
    assert venv.prefix == tmp_path / "empty"


def test_venv_on_a_venv_links_to_the_real_base(tmp_path: Path) -> None:
    first = create_venv(tmp_path / "first", base("3.12"))
    second = create_venv(tmp_path / "second", first)
    assert second.base_executable == first.base_executable
    assert second.base_prefix == first.base_prefix
    assert inspect_interpreter(second.executable) == second


def test_fish_activation_sets_virtual_env_and_deactivate_undoes_it(tmp_path: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("no fish")
    root = tmp_path / "with space's"
    create_venv(root, base("3.12"), prompt="my env")
    script = (
        "function fish_prompt; echo -n '> '; end\n"
        f"source {shlex.quote(str(root / 'bin' / 'activate.fish'))}\n"
        "echo $VIRTUAL_ENV; echo $VIRTUAL_ENV_PROMPT; command -v python; fish_prompt; echo\n"
        "deactivate; set -q VIRTUAL_ENV; or echo unset; fish_prompt; echo\n"
    )
    out = subprocess.run(
        [fish, "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    python = str(root / "bin" / "python")
    assert out.stdout.splitlines() == [str(root), "my env", python, "(my env) > ", "unset", "> "]


def test_csh_activation_sets_virtual_env_and_deactivate_undoes_it(tmp_path: Path) -> None:
    tcsh = shutil.which("tcsh")
    if tcsh is None:
        pytest.skip("no tcsh")
    root = tmp_path / "env"
    create_venv(root, base("3.12"), prompt="my env")
    # Interactive, as `deactivate` reads its argument through history substitution.
    script = "\n".join(
        [
            "set prompt='> '",
            f"source {root / 'bin' / 'activate.csh'}",
            'echo "$VIRTUAL_ENV|$VIRTUAL_ENV_PROMPT|$prompt"',
            "which python",
            "deactivate",
            'echo "$?VIRTUAL_ENV|$prompt"',
            "exit",
        ]
    )
    out = subprocess.run(
        [tcsh, "-f", "-i"],
        input=script,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    # Each line may start with the prompts tcsh printed before it.
    lines = out.stdout.splitlines()
    assert any(line.endswith(f"{root}|my env|(my env) > ") for line in lines), lines
    assert any(line.endswith(str(root / "bin" / "python")) for line in lines), lines
    assert any(line.endswith("0|> ") for line in lines), lines


def test_a_folder_holding_only_the_lock_or_a_cut_pyvenv_cfg_write_becomes_the_venv(
    tmp_path: Path,
) -> None:
    # What `venv_lock` and a `pyvenv.cfg` write killed midway leave: kiln's own, not foreign.
    root = tmp_path / "env"
    root.mkdir()
    (root / ".lock").write_text("")
    (root / ".pyvenv.cfg.abc123.tmp").write_text("home = /nowhere\n")
    venv = create_venv(root, base("3.12"))
    assert (root / "pyvenv.cfg").is_file() and (root / ".lock").exists()
    assert not list(root.glob(".pyvenv.cfg.*"))
    assert run(venv.executable, "print(1)").stdout.strip() == "1"


def test_clearing_keeps_the_lock_and_a_venv_without_python_is_made_again(tmp_path: Path) -> None:
    root = tmp_path / "env"
    create_venv(root, base("3.12"))
    (root / ".lock").write_text("")
    (root / "bin" / "python").unlink()  # as a kill between `pyvenv.cfg` and the link leaves it
    venv = create_venv(root, base("3.12"))
    assert (root / ".lock").exists()
    assert run(venv.executable, "print(2)").stdout.strip() == "2"
