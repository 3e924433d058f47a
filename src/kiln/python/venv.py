"""Creating a standard virtual environment without running `python -m venv`.

`python -m venv` spends one to three seconds, most of it in ensurepip. The layout is small and
documented (PEP 405), so kiln writes it directly: `pyvenv.cfg`, the interpreter links, the
site-packages folder and activation scripts. The new environment's facts follow from its base
interpreter's, so it is not even run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Literal

from kiln import __version__
from kiln.cache.atomic import write_text
from kiln.cache.layout import Cache
from kiln.core.errors import KilnError
from kiln.core.kill_points import reached
from kiln.python.activation import write_activation_scripts
from kiln.python.interpreter import Interpreter, Scheme, inspect_interpreter, remember
from kiln.python.venv_lock import LOCK_NAME, holds_foreign, is_pyvenv_cfg_temp

_WINDOWS = os.name == "nt"

# What to do with a virtual environment already at the target (uv's `--clear`,
# `--allow-existing`, and its answer when it cannot ask): "clear" empties it first; "update"
# rewrites its interpreter links, `pyvenv.cfg` and scripts and keeps its packages; "allow" is
# "update" that also accepts a folder which is not an environment, keeping its files; "fail"
# refuses it.
OnExisting = Literal["clear", "update", "allow", "fail"]

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by kiln.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def create_venv(
    path: Path,
    interpreter: Interpreter,
    *,
    seed: bool = False,
    prompt: str | None = None,
    clear: bool = True,
    on_existing: OnExisting | None = None,
    cache: Cache | None = None,
) -> Interpreter:
    """Make a virtual environment at ``path`` on ``interpreter``'s base; return its facts.

    What happens to an existing virtual environment there is ``on_existing`` (by default
    ``"clear"`` when ``clear``, else ``"update"``): see `OnExisting`. A folder that is neither
    empty nor a virtual environment is refused unless ``"allow"``; it is never deleted.
    """
    root = Path(os.path.abspath(path))
    _prepare(root, on_existing or ("clear" if clear else "update"))
    reached("venv-prepared")
    scheme = _scheme(interpreter, root)
    if prompt == ".":
        prompt = Path.cwd().name
    prompt = prompt or root.name

    # `pyvenv.cfg` first and the `python` link last: an environment interrupted in between
    # is known as one (never mistaken for a foreign folder) and, lacking its interpreter, is
    # made again by the next run instead of being used half made.
    _write_pyvenv_cfg(root, interpreter, prompt)
    reached("venv-config-written")
    scheme.purelib.mkdir(parents=True, exist_ok=True)
    if not _WINDOWS and sys.platform != "darwin" and struct.calcsize("P") == 8:
        # As venv does: some tools look for lib64 on 64-bit Linux.
        lib64 = root / "lib64"
        if not lib64.exists() and not lib64.is_symlink():
            lib64.symlink_to("lib")
    scheme.platlib.mkdir(parents=True, exist_ok=True)
    scheme.scripts.mkdir(parents=True, exist_ok=True)
    write_activation_scripts(root, scheme.scripts, prompt)
    reached("venv-scripts-written")
    (root / ".gitignore").write_text("*\n", encoding="utf-8")
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        # A tag already there, kiln's or another tool's, says the same to backup tools.
        tag.write_text(_CACHEDIR_TAG, encoding="utf-8")
    executable = _install_executables(interpreter, scheme.scripts)
    reached("venv-python-linked")

    venv = _venv_interpreter(interpreter, root, executable, scheme)
    if venv is None:
        venv = inspect_interpreter(executable, cache)
    elif cache is not None:
        remember(venv, cache)
    if seed:
        _seed(venv)
    return venv


def _prepare(root: Path, on_existing: OnExisting) -> None:
    if root.is_symlink() and not root.exists():
        raise _refuse(root, "is a broken link")
    if not root.exists():
        root.mkdir(parents=True)
        return
    if not root.is_dir():
        raise _refuse(root, "exists and is not a folder")
    if on_existing == "allow":
        return
    if (root / "pyvenv.cfg").is_file():
        if on_existing == "fail":
            raise KilnError(
                f"a virtual environment already exists at `{root}`",
                hint="pass `--clear` (or set `KILN_VENV_CLEAR=1`) to replace it, "
                "or `--allow-existing` to update it in place and keep its packages",
            )
        if on_existing == "clear":
            _clear(root)
        return
    if holds_foreign(root):
        raise KilnError(
            f"`{root}` exists and is not a virtual environment",
            hint="kiln does not delete a folder that is not a virtual environment: remove it "
            "yourself, choose another path, or pass `kiln venv --allow-existing` to create "
            "the environment inside it and keep its files",
        )
    for entry in root.iterdir():
        if is_pyvenv_cfg_temp(entry.name):
            entry.unlink()  # a `pyvenv.cfg` write cut short: the first step of a kiln venv


def _clear(root: Path) -> None:
    """Empty the environment at ``root`` but for its lock and `pyvenv.cfg`.

    The interpreter goes first, so an environment interrupted while being cleared is one
    without a `python` (the next run makes it again), and `pyvenv.cfg` stays, so it is still
    known as an environment; `create_venv` rewrites that file next.
    """
    scripts = root / ("Scripts" if _WINDOWS else "bin")
    entries = sorted(root.iterdir(), key=lambda e: e != scripts)
    for entry in entries:
        if entry.name in (LOCK_NAME, "pyvenv.cfg"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        reached("venv-clearing")


def _refuse(root: Path, why: str) -> KilnError:
    return KilnError(
        f"`{root}` {why}",
        hint="remove it, or pass `kiln venv` another path for the virtual environment",
    )


def _scheme(interpreter: Interpreter, root: Path) -> Scheme:
    if interpreter.venv_scheme is not None:
        return interpreter.venv_scheme.under(root)
    # Facts from elsewhere than the probe: the layout every CPython venv has had.
    if _WINDOWS:
        relative = Scheme(
            Path("Lib/site-packages"), Path("Lib/site-packages"), Path("Scripts"), Path(), Path()
        )
    else:
        site = Path("lib") / f"python{interpreter.version[0]}.{interpreter.version[1]}"
        relative = Scheme(
            site / "site-packages", site / "site-packages", Path("bin"), Path(), Path()
        )
    return relative.under(root)


def _write_pyvenv_cfg(root: Path, base: Interpreter, prompt: str) -> None:
    command = shlex.join(["kiln", "venv", "--python", str(base.base_executable), str(root)])
    lines = [
        f"home = {base.base_executable.parent}",
        f"implementation = {base.markers.get('platform_python_implementation', 'CPython')}",
        "include-system-site-packages = false",
        f"version = {base.version_str}",
        f"executable = {base.base_executable}",
        f"command = {command}",
        f"prompt = {prompt}",
        f"kiln = {__version__}",
    ]
    write_text(root / "pyvenv.cfg", "\n".join(lines) + "\n")


def _install_executables(base: Interpreter, scripts: Path) -> Path:
    """Link (posix) or copy (Windows) the interpreter into ``scripts``; return the python."""
    if _WINDOWS:
        return _copy_windows_launchers(base, scripts)
    major, minor = base.version[0], base.version[1]
    python = scripts / "python"
    aliases = [f"python{major}", f"python{major}.{minor}"]
    if base.implementation == "pypy":
        aliases += ["pypy", f"pypy{major}"]
    for alias in aliases:
        _replace_with_link(scripts / alias, Path("python"))
    # Last: its presence is what says the environment is complete (see `create_venv`).
    _replace_with_link(python, base.base_executable)
    return python


def _replace_with_link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def _copy_windows_launchers(base: Interpreter, scripts: Path) -> Path:  # pragma: no cover
    # A venv's python.exe on Windows is a launcher that reads pyvenv.cfg and starts the base;
    # where it lives moved in 3.13. A plain copy of python.exe is the last resort.
    prefix, here = base.base_prefix, base.base_executable.parent
    sources = {
        "python.exe": [
            prefix / "venvlauncher.exe",
            prefix / "Lib/venv/scripts/nt/python.exe",
            here / "python.exe",
        ],
        "pythonw.exe": [
            prefix / "venvwlauncher.exe",
            prefix / "Lib/venv/scripts/nt/pythonw.exe",
            here / "pythonw.exe",
        ],
    }
    for name, candidates in sources.items():
        for candidate in candidates:
            if candidate.is_file():
                shutil.copy2(candidate, scripts / name)
                break
    return scripts / "python.exe"


def _venv_interpreter(
    base: Interpreter, root: Path, executable: Path, scheme: Scheme
) -> Interpreter | None:
    """The new environment's facts, known from its base's without running it."""
    if base.venv_scheme is None:
        return None
    return Interpreter(
        executable=executable,
        base_executable=base.base_executable,
        prefix=root,
        base_prefix=base.base_prefix,
        version=base.version,
        implementation=base.implementation,
        markers=base.markers,
        tags=base.tags,
        scheme=scheme,
        is_virtualenv=True,
        venv_scheme=base.venv_scheme,
    )


def _seed(venv: Interpreter) -> None:
    """Install pip from the wheel bundled with the interpreter (ensurepip needs no network)."""
    try:
        proc = subprocess.run(
            [str(venv.executable), "-m", "ensurepip", "--default-pip"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise KilnError(
            f"could not run `{venv.executable}` to seed pip", causes=[str(exc)]
        ) from None
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-3:]
        raise KilnError(
            f"could not install pip into `{venv.prefix}`",
            causes=tail,
            hint="the base python may lack ensurepip (on Debian: `apt install python3-venv`); "
            "create the environment without --seed and install pip with `kiln pip install pip`",
        )
