"""`kiln torch doctor`: which torch build an environment holds, and whether this machine runs it.

The build is read from the installed distribution's version, without importing torch: a local
version names its backend (`2.5.1+cu124`); a plain version is PyPI's build, which on Linux
x86_64 is a CUDA build of the variant PyPI carried for that release, and elsewhere a CPU build.
Importing torch is a second, separate check in a subprocess of that environment's python: a
torch that crashes or hangs there is a finding of the report, never a failure of kiln.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.accel import tables
from kiln.accel.backends import CPU, Backend, backend_named
from kiln.accel.choose import Fit, choose, fits, runnable
from kiln.accel.machine import Machine, detect
from kiln.commands.context import CommandContext
from kiln.core.errors import KilnError
from kiln.core.records import record
from kiln.install.installed import InstalledDist, find_installed
from kiln.project.pyproject import find_project, load_pyproject
from kiln.python.discovery import executable_in, find_interpreter, find_target_environment
from kiln.python.interpreter import Interpreter, inspect_interpreter

IMPORT_TIMEOUT_S = 60

# FACTS §1, "PyPI Linux wheel CUDA": the CUDA version of torch's PyPI wheels for Linux x86_64.
_PYPI_LINUX_CUDA = {
    "2.0": "cu117",
    **dict.fromkeys(("2.1", "2.2", "2.3", "2.4"), "cu121"),
    **dict.fromkeys(("2.5", "2.6"), "cu124"),
    "2.7": "cu126",
    **dict.fromkeys(("2.8", "2.9", "2.10"), "cu128"),
    **dict.fromkeys(("2.11", "2.12", "2.13"), "cu130"),
}
_NEWEST_KNOWN = max(tuple(map(int, k.split("."))) for k in _PYPI_LINUX_CUDA)

_IMPORT_SCRIPT = r"""
import json
out = {}
try:
    import torch
    out["version"] = str(torch.__version__)
    out["cuda"] = getattr(torch.version, "cuda", None)
    out["hip"] = getattr(torch.version, "hip", None)
    out["available"] = bool(torch.cuda.is_available())
    device = "cpu"
    if out["available"]:
        device = "cuda"
        out["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    elif hasattr(torch, "xpu") and torch.xpu.is_available():
        device = "xpu"
        out["devices"] = [torch.xpu.get_device_name(i) for i in range(torch.xpu.device_count())]
    out["device"] = device
    out["result"] = (torch.ones(2, device=device) * 2).sum().item()
except BaseException as exc:
    out["error"] = type(exc).__name__ + ": " + (str(exc).strip().splitlines() or [""])[0]
print(json.dumps(out, default=str))
"""


@record
class DoctorRequest:
    """The environment `kiln torch doctor` checks."""

    python: str | None = None
    project: Path | None = None


@record
class InspectedEnvironment:
    """The environment the doctor looked at, or why it could not."""

    origin: str  # how it was chosen: "the project's .venv", "--python", ...
    interpreter: Interpreter | None
    problem: str | None = None  # why it could not be inspected


@record
class TorchBuild:
    """The installed torch and the backend its version names."""

    version: Version
    backend: Backend | None  # None: the version names no backend kiln knows
    how: str  # how the backend was told


@record
class ImportCheck:
    """What importing torch in the environment printed."""

    ok: bool
    values: dict[str, Any]  # what the script printed: version, cuda, available, device, result
    problem: str | None = None


@record
class DoctorReport:
    """Everything `kiln torch doctor` found, with what it recommends."""

    machine: Machine
    environment: InspectedEnvironment
    installed: bool
    build: TorchBuild | None
    fit: Fit | None
    import_check: ImportCheck | None
    recommended: Backend
    command: str  # what installs or switches to `recommended`

    @property
    def ok(self) -> bool:
        return self.fit is not None and self.fit.ok


def torch_doctor(ctx: CommandContext, request: DoctorRequest) -> DoctorReport:
    machine = detect()
    start = (request.project or Path.cwd()).resolve()
    pyproject = find_project(start)
    root = pyproject.parent if pyproject is not None else None
    environment = _environment(ctx, request, root, start)
    interpreter = environment.interpreter
    dist = find_installed(interpreter.site_packages(), "torch") if interpreter else None
    build = _build(dist, interpreter) if dist is not None and interpreter is not None else None
    fit: Fit | None = None
    if build is not None and build.backend is not None:
        fit = fits(machine, build.backend, build.version)
    public = Version(build.version.public) if build is not None else None
    # Only builds the installed release was published for: a suggestion must be installable.
    published = tables.release_variants(public) if public is not None else None
    offers = [(b, public) for b in runnable(machine) if published is None or b.name in published]
    recommended = choose(machine, offers) or CPU
    import_check = _import_check(interpreter) if dist is not None and interpreter else None
    command = _command(
        recommended,
        in_project=root is not None and request.python is None,
        depends_on_torch=pyproject is not None and _depends_on_torch(pyproject),
        installed=dist is not None,
        python=request.python,
    )
    return DoctorReport(
        machine, environment, dist is not None, build, fit, import_check, recommended, command
    )


def _environment(
    ctx: CommandContext, request: DoctorRequest, root: Path | None, start: Path
) -> InspectedEnvironment:
    """`--python`, else the project's `.venv`, else the active or nearest virtual environment,
    else the first python on PATH; one that cannot be inspected is reported as such."""
    origin = "--python"
    try:
        if request.python is not None:
            return InspectedEnvironment(origin, find_interpreter(request.python, ctx.cache))
        if root is not None and (root / ".venv").is_dir():
            origin = "the project's .venv"
            venv = executable_in(root / ".venv")
            return InspectedEnvironment(origin, inspect_interpreter(venv, ctx.cache))
        origin = "the active virtual environment"
        try:
            found = find_target_environment(None, system=False, cwd=start, cache=ctx.cache)
        except KilnError:
            origin = "the first python on PATH"
            found = find_interpreter(None, ctx.cache)
        return InspectedEnvironment(origin, found)
    except KilnError as exc:
        return InspectedEnvironment(origin, None, "; ".join((exc.message, *exc.causes)))


def _build(dist: InstalledDist, interpreter: Interpreter) -> TorchBuild:
    version = dist.version
    local = version.local
    if local:
        backend = backend_named(local)
        if backend is None:
            return TorchBuild(version, None, f"its local version `+{local}` names no known backend")
        return TorchBuild(version, backend, f"from its local version `+{local}`")
    system = interpreter.markers.get("sys_platform", "")
    machine = interpreter.markers.get("platform_machine", "").lower()
    if system != "linux":
        return TorchBuild(version, CPU, f"a plain version on {system}: a CPU build")
    if machine not in ("x86_64", "amd64"):
        return _linux_other(dist, version, machine)
    release = f"{version.major}.{version.minor}"
    name = _PYPI_LINUX_CUDA.get(release)
    if name is not None:
        how = f"a plain version on Linux x86_64: PyPI's CUDA build for torch {release}"
    elif (version.major, version.minor) > _NEWEST_KNOWN:
        name = _PYPI_LINUX_CUDA[".".join(map(str, _NEWEST_KNOWN))]
        how = f"a plain version on Linux x86_64: PyPI's CUDA build, taken to be {name}"
    else:
        return TorchBuild(
            version, None, f"kiln does not know PyPI's CUDA build for torch {release}"
        )
    return TorchBuild(version, backend_named(name), how)


def _linux_other(dist: InstalledDist, version: Version, machine: str) -> TorchBuild:
    # Off x86_64 the PyPI wheel has been a CPU build or a CUDA one by release; its pinned CUDA
    # runtime says which.
    try:
        requires = dist.metadata().requires_dist
    except KilnError:
        requires = ()
    for requirement in requires:
        if canonicalize_name(requirement.name).startswith("nvidia-cuda-runtime"):
            pins = [s.version for s in requirement.specifier if s.operator == "=="]
            parts = pins[0].split(".") if pins else []
            backend = backend_named(f"cu{parts[0]}{parts[1]}") if len(parts) > 1 else None
            return TorchBuild(version, backend, f"a plain version on Linux {machine} needing CUDA")
    return TorchBuild(version, CPU, f"a plain version on Linux {machine}: a CPU build")


def _import_check(interpreter: Interpreter) -> ImportCheck:
    try:
        done = subprocess.run(
            [str(interpreter.executable), "-I", "-c", _IMPORT_SCRIPT],
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT_S,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ImportCheck(False, {}, f"`import torch` did not finish within {IMPORT_TIMEOUT_S} s")
    except OSError as exc:
        return ImportCheck(False, {}, f"the interpreter could not be started: {exc}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        values = json.loads(lines[-1]) if lines else None
    except ValueError:
        values = None
    if not isinstance(values, dict):
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return ImportCheck(False, {}, f"the check crashed: {tail}")
    error = values.get("error")
    return ImportCheck(error is None, values, str(error) if error is not None else None)


def _depends_on_torch(pyproject: Path) -> bool:
    try:
        project = load_pyproject(pyproject)
    except KilnError:
        return False
    requirements = [
        *project.dependencies,
        *(r for rs in project.optional_dependencies.values() for r in rs),
        *(r for rs in project.dependency_groups.values() for r in rs),
    ]
    return any(canonicalize_name(r.name) == "torch" for r in requirements)


def _command(
    backend: Backend,
    *,
    in_project: bool,
    depends_on_torch: bool,
    installed: bool,
    python: str | None,
) -> str:
    if in_project:
        sync = f"kiln sync --torch-backend {backend.name}"
        return sync if depends_on_torch else f"kiln add torch && {sync}"
    target = f" --python {shlex.quote(python)}" if python else ""
    # An installed torch already satisfies `torch`; only a reinstall swaps its build.
    again = " --reinstall" if installed else ""
    return f"kiln pip install{target} --torch-backend {backend.name}{again} torch"
