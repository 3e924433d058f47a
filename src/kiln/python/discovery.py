"""Finding an interpreter for a request, and the environment a `kiln pip` command acts on.

Search order: each PATH entry (``python3``, ``python``, then ``python3.X``), then pyenv's
versions folder, newest first. pyenv's shims are skipped: a shim runs whatever pyenv selects
for the current folder, not a fixed interpreter. Interpreters are told apart by the binary they
resolve to and by the virtual environment they belong to, if any.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiln.cache.layout import Cache
from kiln.core.errors import InterpreterError
from kiln.python.interpreter import Interpreter, inspect_interpreter, pyvenv_cfg
from kiln.python.request import (
    AnyPython,
    NameRequest,
    PathRequest,
    VersionRequest,
    parse_request,
)

_WINDOWS = sys.platform == "win32"
_EXE = ".exe" if _WINDOWS else ""
_INSTALLATION_NAMES = [f"python3{_EXE}", f"python{_EXE}", f"pypy3{_EXE}"]
_MINOR_NAME_RE = re.compile(r"^python3\.(\d+)" + re.escape(_EXE) + "$")


def find_interpreter(request: str | None, cache: Cache | None = None) -> Interpreter:
    """The interpreter that fits ``request`` (see `kiln.python.request` for its forms)."""
    parsed = parse_request(request)
    match parsed:
        case PathRequest(path):
            return inspect_interpreter(executable_in(path) if path.is_dir() else path, cache)
        case AnyPython():
            for interpreter in _inspect_all(_candidates(), cache):
                return interpreter
        case NameRequest(name):
            for interpreter in _inspect_all(_candidates(name), cache):
                return interpreter
        case VersionRequest():
            best: Interpreter | None = None
            candidates = (c for c in _candidates() if _may_match(c, parsed))
            for interpreter in _inspect_all(candidates, cache):
                if parsed.matches(interpreter.version, interpreter.implementation) and (
                    best is None or interpreter.version > best.version
                ):
                    best = interpreter
            if best is not None:
                return best
    raise _not_found(request, parsed, cache)


def list_interpreters(cache: Cache | None = None) -> list[Interpreter]:
    """Every working interpreter (3.8 or newer) on PATH and in pyenv's versions, in search order."""
    return list(_inspect_all(_candidates(), cache))


def find_target_environment(
    python: str | None, *, system: bool, cwd: Path, cache: Cache | None = None
) -> Interpreter:
    """The environment a `kiln pip` command installs into, found as uv finds it."""
    if python is not None:
        return find_interpreter(python, cache)
    if system:
        return find_interpreter(None, cache)
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        root = os.environ.get(variable)
        # conda's base environment is the system python of a conda install, not a project's.
        if not root or (
            variable == "CONDA_PREFIX" and os.environ.get("CONDA_DEFAULT_ENV") == "base"
        ):
            continue
        if not Path(root).is_dir():
            raise InterpreterError(
                f"`${variable}` names `{root}`, which does not exist",
                hint="deactivate that environment, or recreate it",
            )
        return inspect_interpreter(executable_in(Path(root)), cache)
    for folder in (cwd, *cwd.parents):
        venv = folder / ".venv"
        if venv.is_dir():
            return inspect_interpreter(executable_in(venv), cache)
    raise InterpreterError(
        "no virtual environment found",
        causes=[f"no `.venv` in `{cwd}` or any folder above it, and no active environment"],
        hint="run `kiln venv` to create one, or pass --system to install into the system Python",
    )


def executable_in(folder: Path) -> Path:
    """The python of a virtual environment or an installation folder."""
    names = (
        ["Scripts/python.exe", "python.exe"]
        if _WINDOWS
        else ["bin/python", "bin/python3", "bin/pypy3", "bin/pypy"]
    )
    for name in names:
        path = folder / name
        if path.is_file():
            return Path(os.path.abspath(path))
    raise InterpreterError(
        f"no python in `{folder}`",
        causes=[f"looked for {', '.join(names)}"],
        hint="recreate the environment with `kiln venv`, or pass `--python` an executable",
    )


def _path_entries() -> Iterator[Path]:
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and not _is_shims(Path(entry)):
            yield Path(entry)


def _is_shims(folder: Path) -> bool:
    return folder.name == "shims" and any("pyenv" in part for part in folder.parts)


def _pyenv_installations() -> Iterator[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    try:
        folders = sorted(p for p in (root / "versions").iterdir() if p.is_dir())
    except OSError:
        return
    versioned: list[tuple[Version, Path]] = []
    others: list[Path] = []
    for folder in folders:
        try:
            versioned.append((Version(folder.name), folder))
        except InvalidVersion:
            others.append(folder)
    versioned.sort(key=lambda pair: pair[0], reverse=True)
    yield from (folder for _, folder in versioned)
    yield from others


def _candidates(name: str | None = None) -> Iterator[Path]:
    """Executables worth inspecting, in search order; only ``name`` when given."""
    for folder in _path_entries():
        if name is not None:
            names = [name, name + _EXE] if _WINDOWS and not name.endswith(_EXE) else [name]
        else:
            names = [f"python3{_EXE}", f"python{_EXE}", *_minor_names(folder)]
        yield from (folder / n for n in names if _is_executable(folder / n))
    for installation in _pyenv_installations():
        bin_dir = installation if _WINDOWS else installation / "bin"
        for n in [name] if name is not None else _INSTALLATION_NAMES:
            if _is_executable(bin_dir / n):
                yield bin_dir / n
                break


def _minor_names(folder: Path) -> list[str]:
    try:
        found = [m for m in map(_MINOR_NAME_RE.match, os.listdir(folder)) if m]
    except OSError:
        return []
    return [m.group(0) for m in sorted(found, key=lambda m: -int(m.group(1)))]


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _may_match(candidate: Path, request: VersionRequest) -> bool:
    """False when a pyenv folder's name already says its version does not fit (no spawn)."""
    folder = candidate.parent if _WINDOWS else candidate.parent.parent
    if folder.parent.name != "versions" or not re.fullmatch(r"\d+\.\d+\.\d+", folder.name):
        return True
    version = tuple(int(part) for part in folder.name.split("."))
    return request.matches(version, request.implementation or "cpython")


def _inspect_all(candidates: Iterator[Path], cache: Cache | None) -> Iterator[Interpreter]:
    seen: set[tuple[str, str | None]] = set()
    for candidate in candidates:
        cfg = pyvenv_cfg(candidate)
        key = (os.path.realpath(candidate), str(cfg.parent) if cfg else None)
        if key in seen:
            continue
        seen.add(key)
        try:
            yield inspect_interpreter(candidate, cache)
        except InterpreterError:
            continue


def _not_found(
    request: str | None,
    parsed: AnyPython | NameRequest | VersionRequest | PathRequest,
    cache: Cache | None,
) -> InterpreterError:
    found = [interpreter.description for interpreter in list_interpreters(cache)]
    causes = found or ["no python 3.8 or newer on PATH or in pyenv's versions folder"]
    wanted = parsed.display if isinstance(parsed, VersionRequest) else "CPython 3"
    hint = (
        f"kiln does not download Python yet; install {wanted} (e.g. with pyenv) "
        "or pass --python PATH"
    )
    if request is None:
        return InterpreterError("no python found", causes=causes, hint=hint)
    return InterpreterError(f"no python found for `{request}`", causes=causes, hint=hint)
