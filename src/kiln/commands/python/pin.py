"""`kiln python pin`: read or write the `.python-version` that `kiln sync` and `find` honour."""

from __future__ import annotations

from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiln.cache import atomic
from kiln.commands.context import CommandContext
from kiln.commands.python.find import VERSION_FILE, find_version_file, nearest_project, read_pin
from kiln.core.errors import InterpreterError, KilnError, NotFoundError, UsageError
from kiln.core.records import field, record
from kiln.python.discovery import find_interpreter
from kiln.python.request import NameRequest, VersionRequest, parse_request


@record
class PythonPinRequest:
    """What `kiln python pin` writes to `.python-version`."""

    cwd: Path
    request: str | None = None
    resolved: bool = False  # write the interpreter's path rather than the request
    no_project: bool = False  # skip the check against the project's requires-python


@record
class PinResult:
    """The `.python-version` file before and after `kiln python pin`."""

    path: Path
    old: str | None
    new: str
    written: bool
    warnings: tuple[str, ...] = field(default=())


def python_pin(ctx: CommandContext, request: PythonPinRequest) -> PinResult:
    if request.request is None:
        return _current(request.cwd)
    parsed = parse_request(request.request)
    if isinstance(parsed, NameRequest):
        raise UsageError(
            f"`{request.request}` names an executable; a version file holds a version or a path",
            hint="pin a version (`3.12`), a specifier (`>=3.11`), `cpython@3.12` or a path",
        )
    warnings: list[str] = []
    try:
        interpreter = find_interpreter(request.request, ctx.cache)
    except InterpreterError:
        if request.resolved:
            raise
        interpreter = None
        wanted = parsed.display if isinstance(parsed, VersionRequest) else f"`{request.request}`"
        warnings.append(f"no interpreter found for {wanted} on PATH or in pyenv's versions")
    project = None if request.no_project else nearest_project(request.cwd)
    spec = project.requires_python if project is not None else None
    if spec is not None:
        version = interpreter.version_str if interpreter is not None else _plain(parsed)
        if version is not None and not spec.contains(version, prereleases=True):
            raise KilnError(
                f"the requested Python version `{request.request}` is incompatible with the "
                f'project\'s `requires-python = "{spec}"`',
                hint="pin a version that fits, or pass --no-project to pin it anyway",
            )
    new = str(interpreter.executable) if request.resolved and interpreter else request.request
    path = request.cwd / VERSION_FILE
    old = read_pin(path) if path.is_file() else None
    atomic.write_text(path, new + "\n")
    return PinResult(path, old, new, True, tuple(warnings))


def _current(cwd: Path) -> PinResult:
    path = find_version_file(cwd)
    pin = read_pin(path) if path is not None else None
    if path is None or pin is None:
        raise NotFoundError(
            f"no `{VERSION_FILE}` file found in `{cwd}` or any folder above it",
            hint="pass a version to create one, e.g. `kiln python pin 3.12`",
        )
    return PinResult(path, pin, pin, False)


def _plain(parsed: object) -> str | None:
    """The version a `3.12`-style request names, to test against requires-python."""
    if not isinstance(parsed, VersionRequest) or parsed.text[:1] in "<>=!~":
        return None
    try:
        return str(Version(parsed.text))
    except InvalidVersion:
        return None
