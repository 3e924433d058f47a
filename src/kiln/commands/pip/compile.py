"""`kiln pip compile`: resolve requirements files or a pyproject into pins, as uv writes them.

Without `--universal` the pins are for one interpreter; with it (and always for `pylock.toml`)
they come from the same universal resolution `kiln lock` uses, over the default platforms and
every Python from the floor up, each entry carrying the marker where it applies.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from kiln.cache.atomic import write_text
from kiln.commands.build_support import sdist_metadata_hook
from kiln.commands.context import CommandContext
from kiln.commands.pip.install import direct_files
from kiln.commands.pip.target import target_environment, target_interpreter
from kiln.core.errors import InterpreterError, KilnError, UsageError
from kiln.core.records import field, record, replace
from kiln.lock.fingerprint import fingerprint
from kiln.lock.from_resolution import LockScope, resolution_to_lock
from kiln.lock.pylock_toml import dump_lock, load_lock
from kiln.project.manifest import lock_region
from kiln.project.pyproject import load_pyproject
from kiln.project.requirements_txt import RequirementsFile, read_requirements
from kiln.python.discovery import find_interpreter
from kiln.python.interpreter import Interpreter
from kiln.resolve.resolver import resolve
from kiln.resolve.universal import Manifest, RootRequirements, resolve_universal
from kiln.settings.build_settings import build_settings
from kiln.settings.index_settings import IndexSettings
from kiln.settings.resolver_settings import pip_resolver_options, target_python
from kiln.settings.target_platforms import target_platform
from kiln.settings.torch_settings import TorchSettings

if TYPE_CHECKING:
    # Only `--torch-backend` needs the torch index machinery (a fifth of the imports).
    from kiln.commands.pip.torch_index import TorchIndexChoice

FORMATS = ("requirements.txt", "pylock.toml")
_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


@record
class PipCompileRequest:
    """The inputs and options of one `kiln pip compile`."""

    sources: Sequence[Path]
    constraint_files: Sequence[Path] = ()
    output_file: Path | None = None
    universal: bool = False
    format: str | None = None
    python: str | None = None
    python_version: str | None = None
    extras: Sequence[str] = ()
    all_extras: bool = False
    upgrade: bool = False
    upgrade_packages: Sequence[str] = ()
    header: bool = True
    command: str = "kiln pip compile"  # as the header repeats it
    torch: TorchSettings | None = None


@record
class CompiledPin:
    """One pinned package of a compiled requirements file, with what brought it in."""

    name: NormalizedName
    version: Version
    marker: Marker | None
    via: tuple[str, ...]  # origins (`-r file`, `-c file`, `name (pyproject.toml)`), then parents


@record
class PipCompileResult:
    """A compiled requirements file, and the pins it holds."""

    format: str
    text: str
    pins: tuple[CompiledPin, ...]
    output_file: Path | None
    interpreter: Interpreter | None  # None for a universal resolution
    seconds: float
    warnings: tuple[str, ...] = field(default=())


@record(frozen=False)
class _Inputs:
    """Root requirements and constraints, each with the origin `# via` names for it."""

    requirements: list[tuple[Requirement, str]] = field(default_factory=list)
    constraints: list[tuple[Requirement, str]] = field(default_factory=list)
    options: RequirementsFile = field(default_factory=RequirementsFile)
    requires_python: SpecifierSet | None = None


def output_format(request: PipCompileRequest) -> str:
    """`--format`, else `pylock.toml` when the output file is named like one (as uv)."""
    if request.format is not None:
        if request.format not in FORMATS:
            raise UsageError(
                f"unsupported output format `{request.format}`",
                hint=f"use one of {', '.join(f'`{f}`' for f in FORMATS)}",
            )
        return request.format
    if request.output_file is not None and _PYLOCK_NAME.match(request.output_file.name):
        return "pylock.toml"
    return "requirements.txt"


def _gather(request: PipCompileRequest) -> _Inputs:
    if not request.sources:
        raise UsageError(
            "nothing to compile",
            hint="pass a `requirements.in`, `requirements.txt` or `pyproject.toml`",
        )
    inputs = _Inputs()
    extras_used = False
    for path in request.sources:
        if path.name == "pyproject.toml":
            if not path.exists():
                raise KilnError(
                    f"`{path}` does not exist", hint="check the path given to `kiln pip compile`"
                )
            project = load_pyproject(path)
            origin = f"{project.name or path.resolve().parent.name} ({path})"
            inputs.requirements += [(r, origin) for r in project.dependencies]
            wanted = (
                set(project.optional_dependencies)
                if request.all_extras
                else {canonicalize_name(e) for e in request.extras}
            )
            for extra in sorted(wanted):
                if extra not in project.optional_dependencies:
                    raise UsageError(
                        f"extra `{extra}` is not defined in `{path}`",
                        hint="name one of `project.optional-dependencies`"
                        if project.optional_dependencies
                        else "remove `--extra`",
                    )
                inputs.requirements += [(r, origin) for r in project.optional_dependencies[extra]]
            extras_used = True
            if project.requires_python is not None:
                inputs.requires_python = project.requires_python
            continue
        if path.suffix == ".toml":
            raise UsageError(
                f"cannot compile `{path}`",
                hint="pass `pyproject.toml`, or a requirements file such as `requirements.in`",
            )
        part = read_requirements(path, into=RequirementsFile())
        if part.locations:
            # Compiling would have to pin a folder or a git URL; not dropped quietly.
            first = part.locations[0]
            raise UsageError(
                f"`{'-e ' if first.editable else ''}{first.text}` names a folder, sdist or git "
                "URL, which `kiln pip compile` cannot pin",
                causes=[first.where],
                hint="compile the project's `pyproject.toml`, or install it with "
                "`kiln pip install`",
            )
        inputs.requirements += [(r, f"-r {path}") for r in part.requirements]
        inputs.constraints += [(c, f"-c {path}") for c in part.constraints]
        _merge_options(inputs.options, part)
    if (request.extras or request.all_extras) and not extras_used:
        raise UsageError(
            "`--extra` and `--all-extras` need a `pyproject.toml` input",
            hint="pass the project's `pyproject.toml` as the file to compile",
        )
    for path in request.constraint_files:
        part = read_requirements(path, into=RequirementsFile(), constraint=True)
        inputs.constraints += [(c, f"-c {path}") for c in part.constraints]
        _merge_options(inputs.options, part)
    return inputs


def _merge_options(into: RequirementsFile, part: RequirementsFile) -> None:
    into.index_url = part.index_url or into.index_url
    into.extra_index_urls += part.extra_index_urls
    into.find_links += part.find_links
    into.no_index = into.no_index or part.no_index


def _interpreter(ctx: CommandContext, request: PipCompileRequest) -> Interpreter:
    """`--python`, else one of `--python-version`, else the environment `kiln pip install`
    would use, else the first interpreter found: compiling needs no virtual environment.
    With `--python-version` this interpreter only runs builds; pins are for the version."""
    if request.python:
        return target_interpreter(ctx, request.python, False)
    if request.python_version:
        try:
            return find_interpreter(request.python_version.strip(), ctx.cache)
        except InterpreterError:
            pass  # resolving is for the version; an interpreter only runs builds
    try:
        return target_interpreter(ctx, None, False)
    except InterpreterError:
        return find_interpreter(None, ctx.cache)


def existing_pins(path: Path | None, fmt: str) -> dict[NormalizedName, Version]:
    """The versions an earlier output pinned; an unreadable file pins nothing."""
    if path is None or not path.is_file():
        return {}
    pins: dict[NormalizedName, Version] = {}
    try:
        if fmt == "pylock.toml":
            for package in load_lock(path.read_text(encoding="utf-8"), path).packages:
                pins.setdefault(package.name, package.version)
            return pins
        for req in read_requirements(path, into=RequirementsFile()).requirements:
            for spec in req.specifier:
                if spec.operator == "==" and "*" not in spec.version:
                    pins.setdefault(canonicalize_name(req.name), Version(spec.version))
    except (KilnError, InvalidVersion, UnicodeDecodeError):
        # The file is about to be replaced; a damaged one only loses its preferences.
        return {}
    return pins


def pip_compile(
    ctx: CommandContext, request: PipCompileRequest, index_args: object
) -> PipCompileResult:
    started = time.perf_counter()
    fmt = output_format(request)
    inputs = _gather(request)
    target = target_python(request.python_version)
    options = pip_resolver_options(index_args)
    platform_name = getattr(index_args, "python_platform", None)
    platform = target_platform(platform_name) if platform_name else None
    preferences: dict[NormalizedName, Version] = {}
    if not request.upgrade:
        skip = {canonicalize_name(n) for n in request.upgrade_packages}
        preferences = {
            name: version
            for name, version in existing_pins(request.output_file, fmt).items()
            if name not in skip
        }
    settings = IndexSettings.resolve(
        index_args,
        file_index_url=inputs.options.index_url,
        file_extra_index_urls=inputs.options.extra_index_urls,
        file_find_links=inputs.options.find_links,
        file_no_index=inputs.options.no_index,
    )
    if getattr(index_args, "refresh", False):
        ctx.client.refresh = True
    requirements = [r for r, _ in inputs.requirements]
    constraints = [c for c, _ in inputs.constraints]
    universal = request.universal or fmt == "pylock.toml"
    if universal and platform is not None:
        raise UsageError(
            f"`--python-platform {platform.name}` resolves for one platform, and a universal "
            "resolution is for all of them",
            hint="drop `--universal` (and the `pylock.toml` output) to pin for that platform, "
            "or drop `--python-platform`",
        )
    interpreter: Interpreter | None = None if universal else _interpreter(ctx, request)
    torch_choice: TorchIndexChoice | None = None
    if request.torch is not None:
        from kiln.commands.pip.torch_index import torch_finder

        finder, torch_choice = torch_finder(
            settings,
            request.torch,
            requirements,
            interpreter.environment() if interpreter is not None else None,
            ctx.client,
            ctx.cache,
        )
    else:
        finder = settings.finder(ctx.client, ctx.cache)
    builder_python: list[Interpreter] = [interpreter] if interpreter is not None else []

    def build_python() -> Interpreter:
        # A universal resolution builds with the interpreter it would otherwise resolve for.
        if not builder_python:
            builder_python.append(_interpreter(ctx, request))
        return builder_python[0]

    finder.sdist_metadata = sdist_metadata_hook(
        ctx, finder, build_python, build_settings(index_args)
    )
    warnings: list[str] = []
    try:
        if interpreter is None:
            requires_python = (
                SpecifierSet(f">={target}")
                if target is not None
                else inputs.requires_python or _current_floor(ctx, request)
            )
            if options.resolution == "lowest-direct":
                options = replace(options, direct=_direct_here(requirements, build_python))
            manifest = Manifest(
                roots=RootRequirements(base=tuple(requirements)),
                region=lock_region(requires_python),
                constraints=tuple(constraints),
                preferences={name: ((version, None),) for name, version in preferences.items()},
                options=options,
            )
            result = resolve_universal(manifest, lambda region: finder)
            warnings += [u.reason for u in result.unsupported]
            graph: dict[NormalizedName, set[NormalizedName]] = defaultdict(set)
            for entry in result.entries:
                graph[entry.name].update(entry.dependencies)
            rows = [(e.name, e.version, e.marker) for e in result.entries]
            if fmt == "pylock.toml":
                inputs_hash = fingerprint(
                    {
                        "requirements": sorted(str(r) for r in requirements),
                        "constraints": sorted(str(c) for c in constraints),
                        "requires-python": str(requires_python or ""),
                        "indexes": [repr(i) for i in settings.indexes],
                        "find-links": list(settings.find_links),
                        "strategy": settings.strategy,
                        "exclude-newer": settings.exclude_newer,
                        "torch-backend": torch_choice.backend.name
                        if torch_choice is not None and torch_choice.backend is not None
                        else "",
                        **options.fingerprint(),
                    }
                )
                lock = resolution_to_lock(LockScope(requires_python), result, inputs_hash)
                text = dump_lock(lock)
        else:
            resolution = resolve(
                requirements,
                finder,
                target_environment(interpreter.environment(), target, platform),
                constraints=constraints,
                preferences=preferences,
                direct=direct_files(requirements),
                options=options,
            )
            graph = defaultdict(set, {k: set(v) for k, v in resolution.graph.items()})
            rows = [(c.name, c.version, None) for c in resolution.candidates]
            warnings += [f"`{c.name}=={c.version}` is yanked" for c in resolution.yanked]
    finally:
        finder.close()
    warnings += finder.notes()
    pins = _pins(rows, graph, inputs)
    if fmt == "requirements.txt":
        text = requirements_text(pins)
    if request.header:
        text = header(request.command) + text
    if request.output_file is not None:
        current = (
            request.output_file.read_text(encoding="utf-8")
            if request.output_file.is_file()
            else None
        )
        if current != text:
            write_text(request.output_file, text)
    return PipCompileResult(
        fmt,
        text,
        pins,
        request.output_file,
        interpreter,
        time.perf_counter() - started,
        tuple(warnings),
    )


def _direct_here(
    requirements: Sequence[Requirement], python: Callable[[], Interpreter]
) -> frozenset[NormalizedName]:
    """The requirements `lowest-direct` treats as direct in a universal compile: those whose
    markers hold on the interpreter the compile would otherwise resolve for, as uv decides."""
    conditional = [r for r in requirements if r.marker is not None]
    env: dict[str, str] = {}
    if conditional:
        try:
            env = {**python().environment().markers, "extra": ""}
        except InterpreterError:
            env = {}
    return frozenset(
        canonicalize_name(r.name)
        for r in requirements
        if r.marker is None or not env or r.marker.evaluate(env)
    )


def _current_floor(ctx: CommandContext, request: PipCompileRequest) -> SpecifierSet | None:
    """uv's floor for a universal resolution: the Python it would otherwise resolve for."""
    try:
        found = _interpreter(ctx, request)
    except InterpreterError:
        return None  # every Python the lock layer knows
    return SpecifierSet(f">={found.version[0]}.{found.version[1]}")


def _pins(
    rows: Sequence[tuple[NormalizedName, Version, Marker | None]],
    graph: Mapping[NormalizedName, set[NormalizedName]],
    inputs: _Inputs,
) -> tuple[CompiledPin, ...]:
    parents: dict[NormalizedName, set[NormalizedName]] = defaultdict(set)
    for parent, children in graph.items():
        for child in children:
            if child != parent:
                parents[child].add(parent)
    origins: dict[NormalizedName, list[str]] = defaultdict(list)
    for req, origin in (*inputs.requirements, *inputs.constraints):
        names = origins[canonicalize_name(req.name)]
        if origin not in names:
            names.append(origin)
    pins = [
        CompiledPin(name, version, marker, (*origins[name], *sorted(parents[name])))
        for name, version, marker in rows
    ]
    return tuple(sorted(pins, key=lambda p: (p.name, p.version, str(p.marker or ""))))


def header(command: str) -> str:
    return f"# This file was autogenerated by kiln via the following command:\n#    {command}\n"


def requirements_text(pins: Sequence[CompiledPin]) -> str:
    """`name==version ; marker` lines, each with its `# via` comment, as uv writes them."""
    lines: list[str] = []
    for pin in pins:
        line = f"{pin.name}=={pin.version}"
        if pin.marker is not None:
            line += f" ; {_marker_text(pin.marker)}"
        lines.append(line)
        if len(pin.via) == 1:
            lines.append(f"    # via {pin.via[0]}")
        elif pin.via:
            lines.append("    # via")
            lines += [f"    #   {who}" for who in pin.via]
    return "".join(f"{line}\n" for line in lines)


def _marker_text(marker: Marker) -> str:
    text = str(marker)
    # uv writes single quotes; packaging writes double.
    return text.replace('"', "'") if "'" not in text else text
