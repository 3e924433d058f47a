"""Which interpreters exist, and which one a request (or the folder's pin) selects."""

from __future__ import annotations

import os
from pathlib import Path

from kiln.commands.context import CommandContext
from kiln.core.errors import InterpreterError
from kiln.core.records import field, record
from kiln.project.pyproject import Pyproject, find_project, load_pyproject
from kiln.python.discovery import executable_in, find_interpreter, list_interpreters
from kiln.python.interpreter import Interpreter, inspect_interpreter
from kiln.python.request import AnyPython, VersionRequest, parse_request

VERSION_FILE = ".python-version"


@record
class PythonFindRequest:
    """What `kiln python find` looks for."""

    cwd: Path
    request: str | None = None
    system: bool = False  # skip virtual environments, as uv's `--system`
    no_project: bool = False  # ignore `.python-version` and `requires-python`


@record
class FoundPython:
    """The interpreter `kiln python find` found, and what asked for it."""

    interpreter: Interpreter
    # What asked for it: the request given, the pin file, or the project's requires-python.
    request: str | None
    source: str
    warnings: tuple[str, ...] = field(default=())


def python_list(ctx: CommandContext) -> list[Interpreter]:
    """Every interpreter found, newest first; among equals, in search order."""
    found = list_interpreters(ctx.cache)
    return sorted(found, key=lambda i: i.version, reverse=True)


def installation_key(interpreter: Interpreter) -> str:
    """uv's name for an installation: ``cpython-3.12.1-linux-x86_64-gnu``."""
    markers = interpreter.markers
    first_abi = interpreter.tags[0].split("-")[1] if interpreter.tags else ""
    variant = "+freethreaded" if first_abi.endswith("t") else ""
    platform = markers.get("sys_platform", "unknown")
    system = {"darwin": "macos", "win32": "windows"}.get(platform, platform)
    arch = markers.get("platform_machine", "unknown").lower().replace("amd64", "x86_64")
    if system != "linux":
        libc = "none"
    else:
        libc = "musl" if any("musllinux" in tag for tag in interpreter.tags) else "gnu"
    return f"{interpreter.implementation}-{interpreter.version_str}{variant}-{system}-{arch}-{libc}"


def find_version_file(start: Path, stop: Path | None = None) -> Path | None:
    """The nearest `.python-version` at or above ``start``, not looking above ``stop``."""
    for folder in (start, *start.parents):
        candidate = folder / VERSION_FILE
        if candidate.is_file():
            return candidate
        if stop is not None and folder == stop:
            return None
    return None


def read_pin(path: Path) -> str | None:
    """The request a pin file holds: its first line, as `kiln sync` reads it."""
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    return lines[0].strip() if lines else None


def nearest_project(cwd: Path) -> Pyproject | None:
    path = find_project(cwd.resolve())
    return load_pyproject(path) if path is not None else None


def python_find(ctx: CommandContext, request: PythonFindRequest) -> FoundPython:
    project = None if request.no_project else nearest_project(request.cwd)
    wanted, source = request.request, "request"
    if wanted is None and not request.no_project:
        pin = find_version_file(request.cwd, project.root if project else None)
        if pin is not None:
            wanted, source = read_pin(pin), f"`{pin}`"
        elif project is not None and project.requires_python is not None:
            wanted = str(project.requires_python)
            source = f"the `requires-python` of `{project.root / 'pyproject.toml'}`"
    parsed = parse_request(wanted)
    interpreter = None
    if not request.system and isinstance(parsed, AnyPython | VersionRequest):
        interpreter = _matching_environment(ctx, request.cwd, parsed)
    if interpreter is None:
        try:
            interpreter = find_interpreter(wanted, ctx.cache)
        except InterpreterError as exc:
            if source == "request":
                raise
            raise InterpreterError(
                f"{exc.message} (asked for by {source})", causes=exc.causes, hint=exc.hint
            ) from None
    warnings: list[str] = []
    spec = project.requires_python if project is not None else None
    if spec is not None and not spec.contains(interpreter.version_str, prereleases=True):
        warnings.append(
            f"{interpreter.description} does not satisfy the project's "
            f'`requires-python = "{spec}"`'
        )
    return FoundPython(interpreter, wanted, source, tuple(warnings))


def _matching_environment(
    ctx: CommandContext, cwd: Path, parsed: AnyPython | VersionRequest
) -> Interpreter | None:
    """The active or nearest virtual environment, when it fits: uv looks there first."""
    roots: list[Path] = []
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = os.environ.get(variable)
        if value and not (
            variable == "CONDA_PREFIX" and os.environ.get("CONDA_DEFAULT_ENV") == "base"
        ):
            roots.append(Path(value))
    roots += [folder / ".venv" for folder in (cwd, *cwd.parents)]
    for root in roots:
        if not root.is_dir():
            continue
        try:
            interpreter = inspect_interpreter(executable_in(root), ctx.cache)
        except InterpreterError:
            continue
        if isinstance(parsed, AnyPython) or parsed.matches(
            interpreter.version, interpreter.implementation
        ):
            return interpreter
    return None
